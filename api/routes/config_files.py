"""Routes: config_files (to be written)."""

from fastapi import APIRouter

router = APIRouter()
