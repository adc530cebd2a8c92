module preld.test/hello

go 1.19
