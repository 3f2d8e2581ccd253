"""Domain operations as plain async functions. They enforce the rules; they never import strawberry."""
