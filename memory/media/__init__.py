"""Stored media files of a home: frames, thumbnails and audio.

Below the pipeline in the layers, so the Home can delete them (forget, crash journals).
"""
