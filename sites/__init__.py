"""WHERE the power is: the site portfolio, its schema, reading, validation and location. No Pyomo here."""
