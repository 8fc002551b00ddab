import io
import unittest

import numpy as np

from argmax_trainers.errors import UserError
from argmax_trainers.split import split_ids
from argmax_trainers.table import classify_texts, row_batches, scan_types


def scan(text: str, fmt: str = "csv"):
    return scan_types(io.BytesIO(text.encode()), fmt)


class TypesTest(unittest.TestCase):
    def test_the_dataset_services_rules(self):
        self.assertEqual(classify_texts({"1", "-2", "+3"}), "integer")
        self.assertEqual(classify_texts({"1", "2.5", "1e5", ".5", "5."}), "float")
        self.assertEqual(classify_texts({"9007199254740993"}), "float")  # beyond 2^53
        self.assertEqual(classify_texts({"true", "FALSE"}), "boolean")
        self.assertEqual(classify_texts({"2024-01-01", "2024-01-02T12:00:00Z"}), "timestamp")
        for text in ("NaN", "Infinity", "0x1F", " 12", "1_000", "1,5", "-", "a"):
            self.assertEqual(classify_texts({text}), "string", text)
        self.assertEqual(classify_texts({"12\n3"}), "string")
        self.assertEqual(classify_texts({"1", "true"}), "string")

    def test_csv_scan_widens_and_counts_nulls(self):
        t = scan('a;b;c;d\n1;x;true;\n2.5;"y;z";false;\n\n3;;TRUE;\n')
        self.assertEqual(t.delimiter, ";")
        self.assertEqual(t.rows, 3)
        self.assertEqual([(c.name, c.type, c.nulls) for c in t.columns], [("a", "float", 0), ("b", "string", 1), ("c", "boolean", 0), ("d", None, 3)])

    def test_csv_with_bom_crlf_and_quoted_line_feeds(self):
        t = scan('\ufeffid,text\r\n1,"two\nlines"\r\n2,plain\r\n')
        self.assertEqual([c.name for c in t.columns], ["id", "text"])
        self.assertEqual(t.rows, 2)
        columns = next(row_batches(io.BytesIO('\ufeffid,text\r\n1,"two\nlines"\r\n'.encode()), t))
        self.assertEqual(columns[1], ("two\nlines",))

    def test_jsonl_union_of_keys_and_json_types(self):
        t = scan('{"a": 1, "b": "x"}\n\n{"a": 2.5, "c": true}\n{"a": null, "b": {"k": 1}}\n', "jsonl")
        self.assertEqual([(c.name, c.type, c.nulls) for c in t.columns], [("a", "float", 1), ("b", "string", 1), ("c", "boolean", 2)])

    def test_bad_files_are_user_errors(self):
        with self.assertRaises(UserError) as caught:
            scan("a,b\n1,2\n3\n")
        self.assertEqual(caught.exception.code, "invalid_data")
        with self.assertRaises(UserError):
            scan('{"a": 1}\n[1]\n', "jsonl")
        with self.assertRaises(UserError):
            scan("")


class SplitTest(unittest.TestCase):
    def test_deterministic_independent_of_batching_and_70_15_15(self):
        whole = split_ids(np.arange(200_000), 7)
        parts = np.concatenate([split_ids(np.arange(i, min(i + 999, 200_000)), 7) for i in range(0, 200_000, 999)])
        np.testing.assert_array_equal(whole, parts)
        fractions = np.bincount(whole) / len(whole)
        np.testing.assert_allclose(fractions, [0.70, 0.15, 0.15], atol=0.01)
        self.assertFalse(np.array_equal(whole, split_ids(np.arange(200_000), 8)))


if __name__ == "__main__":
    unittest.main()
