"""What the command centres decide by: KPI rollups and assessment (考核), the map's grid states, risk warnings,
task lists and monthly reports. Reads the case app's records; nothing below imports it."""
