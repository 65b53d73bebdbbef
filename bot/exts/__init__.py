"""Extensions (cogs) loaded at start-up: see bot.client.EXTENSIONS."""
