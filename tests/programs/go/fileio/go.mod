module preld.test/fileio

go 1.19
