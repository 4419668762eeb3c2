"""Partners' private links: the tokens, the browser session a link opens, redacted logs."""
