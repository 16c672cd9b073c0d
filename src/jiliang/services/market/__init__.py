"""Market supervision (民生计量, issue 12): random inspections with a committed seed, their results,
net-content inspections, credit records, complaints and enforcement cases. The rules are the pure engines
of ``legal/`` (sampling, net_content, credit, cases); these modules store, scope, audit and log them."""
