"""Energy metering and carbon services (issue 13): key energy-using units and their metering trees, GB 17167
reviews and self-checks, uploaded readings with consumption, balance, standard coal and carbon, the
regional view. The computations are the pure engines of ``jiliang.energy``; these modules store them."""
