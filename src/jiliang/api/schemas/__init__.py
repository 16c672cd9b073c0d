"""Request and response models of the REST API: Pydantic at the edge, separate from the tables.

Output models read ORM rows and domain values through ``from_attributes``; input models check only the
shape of a request (types, required keys). The rules themselves stay in the domain and the services, so a
form, a CSV row and an API call are refused for the same reason with the same field name.
"""
