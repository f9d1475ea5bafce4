"""RFC: BAPI calls and table reads through pyrfc (optional: needs SAP's NW RFC SDK)."""
