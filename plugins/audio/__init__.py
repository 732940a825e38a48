"""Audio plugins: feature front-ends, corpus datasets, speech metrics and the offline demo corpus."""
