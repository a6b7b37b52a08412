"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 17:46:23.744433
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('agent_id', sa.String(length=100), nullable=True),
    sa.Column('senior', sa.Boolean(), nullable=False),
    sa.Column('see_pii', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('target', sa.String(length=300), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('config_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('config_files', schema=None) as batch_op:
        batch_op.create_index('ix_config_kind_name', ['kind', 'name'], unique=False)

    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('stored_path', sa.Text(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('meta', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('call_id', sa.String(length=200), nullable=True),
    sa.Column('batch', sa.String(length=64), nullable=True),
    sa.Column('uploaded_by', sa.String(length=100), nullable=True),
    sa.Column('worker', sa.String(length=100), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('content_hash')
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_batch'), ['batch'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_state'), ['state'], unique=False)

    op.create_table('calls',
    sa.Column('call_id', sa.String(length=200), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('day', sa.String(length=10), nullable=True),
    sa.Column('direction', sa.String(length=20), nullable=True),
    sa.Column('industry', sa.String(length=40), nullable=True),
    sa.Column('queue', sa.String(length=100), nullable=True),
    sa.Column('agent_id', sa.String(length=100), nullable=True),
    sa.Column('customer_id', sa.String(length=100), nullable=True),
    sa.Column('duration_s', sa.Float(), nullable=True),
    sa.Column('primary_reason', sa.String(length=100), nullable=True),
    sa.Column('risk_score', sa.Float(), nullable=True),
    sa.Column('qa_score', sa.Float(), nullable=True),
    sa.Column('lead_intent', sa.String(length=20), nullable=True),
    sa.Column('audio_path', sa.Text(), nullable=True),
    sa.Column('analysis', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], ),
    sa.PrimaryKeyConstraint('call_id')
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calls_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_day'), ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_queue'), ['queue'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_risk_score'), ['risk_score'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_started_at'), ['started_at'], unique=False)

    op.create_table('call_tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.call_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('call_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_tags_call_id'), ['call_id'], unique=False)
        batch_op.create_index('ix_call_tags_kind_value', ['kind', 'value'], unique=False)

    op.create_table('call_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.String(length=200), nullable=False),
    sa.Column('term', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.call_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_id', 'term')
    )
    with op.batch_alter_table('call_terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_terms_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_terms_term'), ['term'], unique=False)

    op.create_table('review_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.String(length=200), nullable=False),
    sa.Column('finding', sa.String(length=200), nullable=False),
    sa.Column('rule', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('verdict', sa.String(length=20), nullable=True),
    sa.Column('score_adjustment', sa.Float(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.call_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('review_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_events_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_events_rule'), ['rule'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('review_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_events_rule'))
        batch_op.drop_index(batch_op.f('ix_review_events_call_id'))

    op.drop_table('review_events')
    with op.batch_alter_table('call_terms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_terms_term'))
        batch_op.drop_index(batch_op.f('ix_call_terms_call_id'))

    op.drop_table('call_terms')
    with op.batch_alter_table('call_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_call_tags_kind_value')
        batch_op.drop_index(batch_op.f('ix_call_tags_call_id'))

    op.drop_table('call_tags')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calls_started_at'))
        batch_op.drop_index(batch_op.f('ix_calls_risk_score'))
        batch_op.drop_index(batch_op.f('ix_calls_queue'))
        batch_op.drop_index(batch_op.f('ix_calls_day'))
        batch_op.drop_index(batch_op.f('ix_calls_customer_id'))
        batch_op.drop_index(batch_op.f('ix_calls_agent_id'))

    op.drop_table('calls')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_state'))
        batch_op.drop_index(batch_op.f('ix_jobs_call_id'))
        batch_op.drop_index(batch_op.f('ix_jobs_batch'))

    op.drop_table('jobs')
    with op.batch_alter_table('config_files', schema=None) as batch_op:
        batch_op.drop_index('ix_config_kind_name')

    op.drop_table('config_files')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
    op.drop_table('api_tokens')
