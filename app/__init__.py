"""The composition root: the app factory, GraphQL over HTTP, auth middleware, CLI, background jobs."""
