"""The queue run and its parts: queue, processing (to the CRM, to the ERP), outcomes and
their commit, rate limits, sync state, the sync log, retries, conflicts, the ERP tables,
and the one place a store's provider client is opened (``clients``)."""
