"""Best Actor (the expression-mimicking game) and the REST API: rules, leaderboard, FastAPI app, web page."""
