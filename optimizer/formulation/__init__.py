"""One module per constraint family; each states its math and has `add(model, data)`."""
