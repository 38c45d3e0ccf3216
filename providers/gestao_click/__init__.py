"""GestãoClick (Betel Tecnologia)."""
