"""A local mock of the Slack Web API and signed requests as Slack sends them."""
