"""Server-rendered HTML pages reached from emailed links (the review page); no JavaScript."""
