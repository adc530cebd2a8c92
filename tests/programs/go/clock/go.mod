module preld.test/clock

go 1.19
