"""The Discord adapter over `bot.handlers`: `render` (escaping and Discord's limits), `cog` (slash commands,
buttons and channel questions) and `client` (the bot, `serve --check` and `serve`). Nothing the bot sends can
ping anyone."""
