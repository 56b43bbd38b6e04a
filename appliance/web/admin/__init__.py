"""The owner's admin, one module per page group; ``core`` holds what they share (forms,
pages, uploads, the signed-in router)."""
