"""jupyter_kernel_test's conformance suite, run against the PPF kernel.

Run by kernel/jupyter_test.go (go test ./kernel -run Jupyter), which builds
ppf-kernel and installs its kernelspec under a temporary JUPYTER_PATH.
"""
import unittest

import jupyter_kernel_test


class PPFKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "ppf"
    language_name = "go"
    file_extension = ".go"

    code_hello_world = 'import "fmt"\nfmt.Println("hello, world")'
    code_stderr = 'import ("fmt"; "os")\nfmt.Fprintln(os.Stderr, "to stderr")'

    completion_samples = [
        {"text": "strings.ToUpp", "matches": {"ToUpper", "ToUpperSpecial"}},
        {"text": "ppfnb.Lo", "matches": {"Load", "LoadDuel"}},
    ]
    complete_code_samples = ["1 + 1", 'import "fmt"', "func f() int { return 1 }"]
    incomplete_code_samples = ["func f() {", "x := []int{1,", "s := `multi"]
    invalid_code_samples = ["x := )", "}"]

    code_page_something = "?strings.ToUpper"

    code_generate_error = 'panic("an error")'

    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": '"a" + "b"', "result": "ab"},
        {"code": 'import "github.com/ppfkit/ppf/ppfnb/display"\n'
                 'type Bold struct{ S string }\n'
                 'func (b Bold) HTML() string { return "<b>" + b.S + "</b>" }\n'
                 'Bold{"x"}',
         "mime": "text/html", "result": "<b>x</b>"},
    ]

    code_display_data = [
        {"code": 'import "github.com/ppfkit/ppf/ppfnb/display"\ndisplay.HTML("<b>hi</b>")', "mime": "text/html"},
        {"code": 'import "github.com/ppfkit/ppf/ppfnb/display"\ndisplay.Markdown("# hi")', "mime": "text/markdown"},
        {"code": 'import "github.com/ppfkit/ppf/ppfnb/display"\n'
                 'display.SVG(`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>`)',
         "mime": "image/svg+xml"},
    ]

    code_history_pattern = "6 ?*"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "strings.ToUpper"

    code_clear_output = 'import "github.com/ppfkit/ppf/ppfnb/display"\ndisplay.Clear(false)'


if __name__ == "__main__":
    unittest.main()
