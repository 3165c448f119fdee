"""What every edge (the GraphQL API, the back office, the upload routes) reads from a request the same way."""
