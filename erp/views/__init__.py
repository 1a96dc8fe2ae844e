"""Back-office views: thin functions that call selectors and services and render pages
or, for HTMX requests, the partial the page is built from."""
