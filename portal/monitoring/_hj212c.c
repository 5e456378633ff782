/* Compiled fast path of the HJ 212-2017 frame parser (portal/monitoring/hj212.py is the reference).
 *
 * parse(frame: bytes) returns (segment, fields, extra, cp, items) for a frame that passes every check the Python
 * parser makes up to and including the CP items (framing, length, CRC, ASCII, segment fields, item syntax, number
 * syntax, data flags), with exactly the values the Python parser would build; it returns None for anything else,
 * and the caller then runs the Python parser, which raises the specific error. Items with SampleTime also return
 * None (the Python parser checks that date). So this module never decides that a packet is bad: it only makes the
 * common good packet cheap. tests/monitoring/test_hj212_compiled.py holds the two parsers to the same results.
 *
 * crc16(data: bytes) -> int is the standard's appendix CRC (see hj212.py for the algorithm).
 *
 * Built by `make native` (cc -O2 -shared); hj212.py falls back to pure Python when the module is missing.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <string.h>

static unsigned short CRC_TABLE[256];

static void init_table(void) {
    for (unsigned int low = 0; low < 256; low++) {
        unsigned int reg = low;
        for (int i = 0; i < 8; i++)
            reg = (reg & 1) ? (reg >> 1) ^ 0xA001 : reg >> 1;
        CRC_TABLE[low] = (unsigned short)reg;
    }
}

static unsigned int crc16_of(const unsigned char *p, Py_ssize_t n) {
    unsigned int reg = 0xFFFF;
    for (Py_ssize_t i = 0; i < n; i++)
        reg = CRC_TABLE[(reg >> 8) ^ p[i]];
    return reg;
}

/* First occurrence of needle (length m) in s[from, n), or -1; the segment may hold NUL bytes. */
static Py_ssize_t find(const char *s, Py_ssize_t n, Py_ssize_t from, const char *needle, Py_ssize_t m) {
    for (Py_ssize_t i = from; i + m <= n; i++)
        if (s[i] == needle[0] && memcmp(s + i, needle, (size_t)m) == 0)
            return i;
    return -1;
}

static int hexval(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int is_alnum(char c) {
    return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* hj212._NUMBER: [+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?, the whole of s[0, n). */
static int is_number(const char *s, Py_ssize_t n) {
    Py_ssize_t i = 0, d;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    for (d = 0; i < n && is_digit(s[i]); i++) d++;
    if (d > 0) {
        if (i < n && s[i] == '.') {
            i++;
            while (i < n && is_digit(s[i])) i++;
        }
    } else {
        if (i >= n || s[i] != '.') return 0;
        i++;
        for (d = 0; i < n && is_digit(s[i]); i++) d++;
        if (d == 0) return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        for (d = 0; i < n && is_digit(s[i]); i++) d++;
        if (d < 1 || d > 3) return 0;
    }
    return i == n;
}

static int equals(const char *s, Py_ssize_t n, const char *word) {
    return (Py_ssize_t)strlen(word) == n && memcmp(s, word, (size_t)n) == 0;
}

static const char *SEGMENT_FIELDS[] = {"QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO", "CP", NULL};
static const char *NUMERIC_FIELDS[] = {"Rtd", "Avg", "Min", "Max", "Cou", "ZsRtd", "ZsAvg", "ZsMin", "ZsMax", NULL};
/* hj212.TEXT_FIELDS without SampleTime (left to the Python parser) and without Flag (checked apart). */
static const char *PLAIN_TEXT_FIELDS[] = {"EFlag", "Info", "Ala", "UpValue", "LowValue", NULL};

static int in_list(const char *s, Py_ssize_t n, const char **list) {
    for (int i = 0; list[i]; i++)
        if (equals(s, n, list[i])) return 1;
    return 0;
}

/* Store key=value in dict unless the key is there already. 1 stored, 0 duplicate, -1 error. */
static int put_new(PyObject *dict, const char *k, Py_ssize_t kn, PyObject *value) {
    PyObject *key = PyUnicode_DecodeASCII(k, kn, NULL);
    if (!key) return -1;
    int has = PyDict_Contains(dict, key);
    int rc = has;
    if (has == 0) rc = PyDict_SetItem(dict, key, value) < 0 ? -1 : 1;
    else if (has > 0) rc = 0;
    Py_DECREF(key);
    return rc;
}

/* Call fn on each non-empty piece of s[from, to) split at ';' (and at ',' when commas is set), stopping at the first
 * result that is not 1. Empty pieces are skipped, as hj212.py's str.split loops skip them. */
typedef int (*piece_fn)(const char *piece, Py_ssize_t n, PyObject *a, PyObject *b);

static int each_piece(const char *s, Py_ssize_t from, Py_ssize_t to, int commas, piece_fn fn, PyObject *a,
                      PyObject *b) {
    Py_ssize_t i = from;
    while (i < to) {
        Py_ssize_t j = i;
        while (j < to && s[j] != ';' && !(commas && s[j] == ',')) j++;
        if (j > i) {
            int rc = fn(s + i, j - i, a, b);
            if (rc != 1) return rc;
        }
        i = j + 1;
    }
    return 1;
}

/* One segment field key=value, into fields (QN, ST, ...) or extra. 1 ok, 0 not a fast-path packet, -1 error. */
static int segment_field(const char *p, Py_ssize_t n, PyObject *fields, PyObject *extra) {
    const char *eq = memchr(p, '=', (size_t)n);
    if (!eq || eq == p) return 0;
    Py_ssize_t kn = eq - p;
    PyObject *value = PyUnicode_DecodeASCII(eq + 1, n - kn - 1, NULL);
    if (!value) return -1;
    int rc = put_new(in_list(p, kn, SEGMENT_FIELDS) ? fields : extra, p, kn, value);
    Py_DECREF(value);
    return rc;
}

/* One CP element code-Field=value or Key=value. 1 ok, 0 not a fast-path packet, -1 error. */
static int cp_element(const char *e, Py_ssize_t n, PyObject *cp, PyObject *items) {
    const char *eq = memchr(e, '=', (size_t)n);
    if (!eq || eq == e) return 0;
    Py_ssize_t kn = eq - e, vn = n - kn - 1;
    const char *v = eq + 1;
    Py_ssize_t dash = -1;
    for (Py_ssize_t i = kn - 1; i >= 0; i--)
        if (e[i] == '-') { dash = i; break; }
    if (dash < 0) {
        PyObject *value = PyUnicode_DecodeASCII(v, vn, NULL);
        if (!value) return -1;
        int rc = put_new(cp, e, kn, value);
        Py_DECREF(value);
        return rc;
    }
    const char *name = e + dash + 1;
    Py_ssize_t nn = kn - dash - 1;
    if (dash < 1 || dash > 16) return 0;
    for (Py_ssize_t i = 0; i < dash; i++)
        if (!is_alnum(e[i])) return 0;
    PyObject *value;
    if (in_list(name, nn, NUMERIC_FIELDS)) {
        if (!is_number(v, vn)) return 0;
        PyObject *text = PyUnicode_DecodeASCII(v, vn, NULL);
        if (!text) return -1;
        value = PyFloat_FromString(text);
        Py_DECREF(text);
        if (!value) return -1;
        double x = PyFloat_AS_DOUBLE(value);
        if (!(x >= -DBL_MAX && x <= DBL_MAX)) { Py_DECREF(value); return 0; }
    } else if (equals(name, nn, "Flag")) {
        if (vn != 1 || !strchr("NFMSDCTB", v[0]) || v[0] == '\0') return 0;
        value = PyUnicode_DecodeASCII(v, 1, NULL);
        if (!value) return -1;
    } else if (in_list(name, nn, PLAIN_TEXT_FIELDS)) {
        value = PyUnicode_DecodeASCII(v, vn, NULL);
        if (!value) return -1;
    } else {
        return 0;  /* SampleTime, or not a known field */
    }
    PyObject *code = PyUnicode_DecodeASCII(e, dash, NULL);
    if (!code) { Py_DECREF(value); return -1; }
    PyObject *entry = PyDict_GetItemWithError(items, code);  /* borrowed */
    int rc;
    if (!entry && PyErr_Occurred()) rc = -1;
    else {
        if (!entry) {
            entry = PyDict_New();
            if (!entry || PyDict_SetItem(items, code, entry) < 0) { Py_XDECREF(entry); rc = -1; goto done; }
            Py_DECREF(entry);  /* items holds it */
        }
        rc = put_new(entry, name, nn, value);
    }
done:
    Py_DECREF(code);
    Py_DECREF(value);
    return rc;
}

static PyObject *parse(PyObject *self, PyObject *arg) {
    (void)self;
    if (!PyBytes_Check(arg)) Py_RETURN_NONE;
    const char *f = PyBytes_AS_STRING(arg);
    Py_ssize_t n = PyBytes_GET_SIZE(arg);
    if (n < 6 || f[0] != '#' || f[1] != '#') Py_RETURN_NONE;
    Py_ssize_t length = 0;
    for (int i = 2; i < 6; i++) {
        if (!is_digit(f[i])) Py_RETURN_NONE;
        length = length * 10 + (f[i] - '0');
    }
    const char *body = f + 6;
    Py_ssize_t blen = n - 6;
    if (blen >= 2 && body[blen - 2] == '\r' && body[blen - 1] == '\n') blen -= 2;
    if (blen != length + 4) Py_RETURN_NONE;
    unsigned int sent = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval((unsigned char)body[length + i]);
        if (h < 0) Py_RETURN_NONE;
        sent = sent * 16 + (unsigned int)h;
    }
    for (Py_ssize_t i = 0; i < length; i++)
        if ((unsigned char)body[i] >= 0x80) Py_RETURN_NONE;
    if (crc16_of((const unsigned char *)body, length) != sent) Py_RETURN_NONE;

    Py_ssize_t start = find(body, length, 0, "CP=&&", 5);
    if (start < 0) Py_RETURN_NONE;
    Py_ssize_t end = find(body, length, start + 5, "&&", 2);
    if (end < 0 || find(body, length, end + 2, "CP=&&", 5) >= 0) Py_RETURN_NONE;

    PyObject *fields = PyDict_New(), *extra = PyDict_New(), *cp = PyDict_New(), *items = PyDict_New();
    PyObject *segment = NULL, *result = NULL;
    if (!fields || !extra || !cp || !items) goto out;
    /* the fields before and after CP=&&...&&, then the CP elements (groups split at ';', items at ',') */
    int rc = each_piece(body, 0, start, 0, segment_field, fields, extra);
    if (rc > 0) rc = each_piece(body, end + 2, length, 0, segment_field, fields, extra);
    if (rc > 0) rc = each_piece(body, start + 5, end, 1, cp_element, cp, items);
    if (rc < 0) goto out;
    if (rc == 0) { result = Py_None; Py_INCREF(result); goto out; }
    segment = PyUnicode_DecodeASCII(body, length, NULL);
    if (segment) result = PyTuple_Pack(5, segment, fields, extra, cp, items);
out:
    Py_XDECREF(segment);
    Py_XDECREF(fields);
    Py_XDECREF(extra);
    Py_XDECREF(cp);
    Py_XDECREF(items);
    return result;
}

static PyObject *crc16(PyObject *self, PyObject *arg) {
    (void)self;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    unsigned int reg = crc16_of((const unsigned char *)view.buf, view.len);
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLong(reg);
}

static PyMethodDef METHODS[] = {
    {"parse", parse, METH_O, "(segment, fields, extra, cp, items) of a good HJ 212 frame, else None."},
    {"crc16", crc16, METH_O, "CRC16 of HJ 212-2017 appendix A."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT, "_hj212c", "Compiled HJ 212 fast path.", -1, METHODS, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__hj212c(void) {
    init_table();
    return PyModule_Create(&MODULE);
}
