"""Organisation: the city, its districts and counties, departments, posts and people."""
