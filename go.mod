module github.com/ppfkit/ppf

go 1.26
