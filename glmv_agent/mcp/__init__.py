"""The Model Context Protocol server (``glmv-agent mcp``): other agents drive a browser, phone or desktop through
run_task, act, query and screenshot. Needs the ``mcp`` extra (the official MCP Python SDK)."""
