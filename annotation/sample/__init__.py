"""The invented sample articles: markup source (articles.txt) and the files built from it."""
