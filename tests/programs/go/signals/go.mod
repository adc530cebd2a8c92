module preld.test/signals

go 1.19
