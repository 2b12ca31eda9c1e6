"""The dashboard's pages beyond the overview: run, known issue, cluster, test, criteria, docs."""
