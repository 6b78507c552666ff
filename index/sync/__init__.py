"""Papers that arrive by themselves: a council's ModernGov committee system synced into the corpus folder."""
