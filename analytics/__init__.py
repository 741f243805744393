"""pumpqi: QI figures for implanted intrathecal drug-delivery pumps."""
