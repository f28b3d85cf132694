"""The Python clients of a stage: one HTTP API client (api.py) that the terminal client
(`dynamotalk chat`, terminal.py) and the MCP server (`dynamotalk mcp`, mcp_server.py) share."""
