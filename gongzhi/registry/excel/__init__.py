"""Excel import and export of the registry (一标三实): the columns of each record type (`columns`), reading real
files (`reading`, `cells`), the checks and upserts per record type (`population`, `places`), the workbooks handed
out (`workbooks`) and the entry points the pages and tasks call (`services`)."""
