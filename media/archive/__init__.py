"""The archive's media: what a sitting leaves on disk as sound and pictures.

- ``recording/``: published tracks written to WebM segments as forwarded (no re-encoding), crash recovery
- ``render/``: the publishable MP4 of a sitting, following the floor, captioned, from those segments
"""
