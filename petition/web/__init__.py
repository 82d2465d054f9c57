"""What every page shares: the readers' blueprint, languages, links, headers, errors, static files."""
