"""The solver's search: compiled kernels, construction and large neighbourhood search."""
