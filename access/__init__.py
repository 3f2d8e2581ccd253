"""Who may see and do what: the viewer, the sync scope, audiences, and the error vocabulary."""
