"""Reports out of the site: PDF for stakeholders, GitHub-flavoured Markdown for pull requests."""
