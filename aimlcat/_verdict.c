/* A compact yes/no JSON Schema checker for the schemas aimlcat compiles.
 *
 * jsonschema-rs builds a chat body's validator as about 300 KB of small
 * allocations; a lint of many files, or a pre-flight client between requests,
 * meets each one with cold caches and pays 12-17 us a call for it.  Here a
 * schema is a flat array of small nodes (a few KB), so a call touches little
 * memory.  It answers the verdict only, never errors: those still come from
 * jsonschema-rs.
 *
 * It reads only what aimlcat/_compact.py compiles (the keywords the fast form
 * uses; anything else is not compiled and jsonschema-rs keeps the schema).  A
 * value it cannot judge exactly as jsonschema-rs would (a non-finite or huge
 * number, a string with lone surrogates, a key that is not a string, a type
 * other than dict/list/str/int/float/bool/None, nesting past MAX_DEPTH) makes
 * the answer "unsure", and the whole value goes to the fallback, the
 * jsonschema-rs validator of the same schema. tests/test_engines.py checks the
 * two agree on every compiled schema.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define T_NULL 1
#define T_BOOL 2
#define T_INT 4 /* integer: an int, or a float with no fraction */
#define T_NUM 8
#define T_STR 16
#define T_ARR 32
#define T_OBJ 64

#define VALID 1
#define INVALID 0
#define UNSURE (-1)
#define ERROR (-2)

#define MAX_DEPTH 200

/* A props node remembers the last key objects it looked up: JSON parsers hand out
 * the same key object again and again (orjson caches them), and comparing
 * pointers costs less than hashing into the properties dict and comparing bytes.
 * A slot holds a reference to its key, so a pointer match is the same string. */
#define SLOTS 8
typedef struct {
    PyObject *key;
    long val; /* the props dict's value for key, or -1: no such property */
} Slot;

typedef struct {
    int never;              /* the schema `false` */
    int types;              /* 0: any */
    int ref;                /* node, or -1 */
    PyObject *props;        /* dict: name -> node * 2 + (1 if required), or NULL */
    Slot *slots;            /* SLOTS of them when props is set */
    int next_slot;
    int req_props;          /* how many required names props holds (counted, not looked up) */
    int simple;             /* only `type` (or nothing): judged inline by visit() */
    int addl;               /* -1: any, -2: false, else node */
    int items;              /* node, or -1 */
    PyObject *required;     /* tuple: required names props does not hold, or NULL */
    int allof_at, allof_n;  /* into the program's pool */
    int anyof_at, anyof_n;
    PyObject *konst;        /* borrowed from keep; NULL when absent */
    PyObject *enums;        /* tuple, or NULL */
    PyObject *minimum, *maximum, *xminimum;
    Py_ssize_t min_len, max_len, min_items, max_items; /* -1: absent */
    PyObject *pattern;      /* callable(str) -> bool, or NULL */
    PyObject *format;       /* callable(str) -> bool, or NULL */
    PyObject *sw_tag;       /* a tagged anyOf: the tag's name, or NULL */
    PyObject *sw_map;       /* ... and a dict: tag value -> the branch's node */
} Node;

typedef struct {
    PyObject_HEAD
    Node *nodes;
    Py_ssize_t n;
    int *pool;
    PyObject *keep;     /* every object the nodes point at */
    PyObject *owned;    /* the program's own copies of the nodes' dicts (a list) */
    PyObject *fallback; /* callable(value) -> bool: the exact engine */
} Program;

static int check(Program *p, int at, PyObject *v, int depth);
static int readable(PyObject *v, int depth);

/* The kind of a value, as a T_* bit (with T_INT added for an integral float);
 * 0 for a value this checker does not judge. */
static int kind_of(PyObject *v) {
    PyTypeObject *t = Py_TYPE(v);
    if (t == &PyUnicode_Type) return T_STR;
    if (t == &PyDict_Type) return T_OBJ;
    if (t == &PyList_Type) return T_ARR;
    if (v == Py_None) return T_NULL;
    if (t == &PyBool_Type) return T_BOOL;
    if (t == &PyLong_Type) {
        /* Past 2**53 engines differ on comparing with a float bound: the fallback's. */
        int overflow = 0;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (overflow || x > 9007199254740992LL || x < -9007199254740992LL) return 0;
        return T_INT | T_NUM;
    }
    if (t == &PyFloat_Type) {
        double d = PyFloat_AS_DOUBLE(v);
        if (!isfinite(d) || fabs(d) >= 9007199254740992.0) return 0;
        return d == floor(d) ? (T_INT | T_NUM) : T_NUM;
    }
    return 0;
}

/* A string jsonschema-rs can read: no lone surrogate (it cannot encode one). */
static int clean_wide(PyObject *s);

static inline int clean_str(PyObject *s) {
    return PyUnicode_KIND(s) == PyUnicode_1BYTE_KIND || clean_wide(s);
}

static int clean_wide(PyObject *s) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int found = 0; /* one loop per width, no early exit: the compiler vectorises it */
    if (PyUnicode_KIND(s) == PyUnicode_2BYTE_KIND) {
        const Py_UCS2 *d = PyUnicode_2BYTE_DATA(s);
        for (Py_ssize_t i = 0; i < n; i++) found |= (d[i] & 0xF800) == 0xD800;
    } else {
        const Py_UCS4 *d = PyUnicode_4BYTE_DATA(s);
        for (Py_ssize_t i = 0; i < n; i++) found |= (d[i] & 0xFFFFF800u) == 0xD800;
    }
    return !found;
}

/* JSON equality (1 == 1.0, true != 1): VALID, INVALID, UNSURE or ERROR. */
static int json_equal(PyObject *a, PyObject *b, int depth) {
    if (Py_TYPE(a) == &PyUnicode_Type && Py_TYPE(b) == &PyUnicode_Type &&
        PyUnicode_KIND(a) == PyUnicode_1BYTE_KIND && PyUnicode_KIND(b) == PyUnicode_1BYTE_KIND) {
        /* the common case (an enum or const of names): two Latin-1 strings */
        Py_ssize_t n = PyUnicode_GET_LENGTH(a);
        return a == b || (n == PyUnicode_GET_LENGTH(b) &&
                          memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b), (size_t)n) == 0);
    }
    if (depth > MAX_DEPTH) return UNSURE;
    int ka = kind_of(a), kb = kind_of(b);
    if (!ka || !kb) return UNSURE;
    if (ka & T_NUM) {
        if (!(kb & T_NUM)) return INVALID;
        int r = PyObject_RichCompareBool(a, b, Py_EQ);
        return r < 0 ? ERROR : r;
    }
    if (ka != kb) return INVALID;
    switch (ka) {
    case T_NULL:
        return VALID;
    case T_BOOL:
        return a == b;
    case T_STR: {
        if (!clean_str(a) || !clean_str(b)) return UNSURE;
        int r = PyUnicode_Compare(a, b);
        if (r == -1 && PyErr_Occurred()) return ERROR;
        return r == 0;
    }
    case T_ARR: {
        Py_ssize_t n = PyList_GET_SIZE(a);
        if (n != PyList_GET_SIZE(b)) return INVALID;
        int unsure = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            int r = json_equal(PyList_GET_ITEM(a, i), PyList_GET_ITEM(b, i), depth + 1);
            if (r == INVALID || r == ERROR) return r;
            if (r == UNSURE) unsure = 1;
        }
        return unsure ? UNSURE : VALID;
    }
    case T_OBJ: {
        if (PyDict_GET_SIZE(a) != PyDict_GET_SIZE(b)) return INVALID;
        Py_ssize_t pos = 0;
        PyObject *key, *va;
        int unsure = 0;
        while (PyDict_Next(a, &pos, &key, &va)) {
            if (!PyUnicode_CheckExact(key)) return UNSURE;
            PyObject *vb = PyDict_GetItemWithError(b, key);
            if (vb == NULL) return PyErr_Occurred() ? ERROR : INVALID;
            int r = json_equal(va, vb, depth + 1);
            if (r == INVALID || r == ERROR) return r;
            if (r == UNSURE) unsure = 1;
        }
        return unsure ? UNSURE : VALID;
    }
    }
    return UNSURE;
}

/* Whether every key of a dict is a str jsonschema-rs can read. Only then may the checker
 * look anything up in the dict: a lookup compares keys, and a key of another type could
 * run Python code (its __eq__) in the middle of the walk, which holds borrowed
 * references. */
static int str_keys(PyObject *v) {
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(v, &pos, &key, &value))
        if (!PyUnicode_CheckExact(key) || !clean_str(key)) return 0;
    return 1;
}

/* A value under no schema of its own (a key no property names and no
 * additionalProperties, an item with no items schema) is read by jsonschema-rs
 * all the same, and what it cannot read makes it raise: such a value must hold
 * JSON kinds only, else the verdict is the fallback's (which raises as before). */
static int readable(PyObject *v, int depth) {
    PyTypeObject *t = Py_TYPE(v);
    if (t == &PyUnicode_Type) return clean_str(v) ? VALID : UNSURE;
    if (v == Py_None || t == &PyBool_Type || t == &PyLong_Type || t == &PyFloat_Type)
        return VALID;
    if (depth > MAX_DEPTH) return UNSURE;
    if (t == &PyList_Type) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(v); i++)
            if (readable(PyList_GET_ITEM(v, i), depth + 1) != VALID) return UNSURE;
        return VALID;
    }
    if (t == &PyDict_Type) {
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        while (PyDict_Next(v, &pos, &key, &value))
            if (!PyUnicode_CheckExact(key) || !clean_str(key) ||
                readable(value, depth + 1) != VALID)
                return UNSURE;
        return VALID;
    }
    return UNSURE;
}

/* The props dict's value for key, -1 when it has none, -2 on an error. */
static long prop_lookup(Node *nd, PyObject *key) {
    Slot *slots = nd->slots;
    for (int i = 0; i < SLOTS; i++)
        if (slots[i].key == key) return slots[i].val;
    long val = -1;
    PyObject *idx = PyDict_GetItemWithError(nd->props, key);
    if (idx != NULL)
        val = PyLong_AsLong(idx);
    else if (PyErr_Occurred())
        return -2;
    if (PyUnicode_GET_LENGTH(key) > 64) return val; /* not kept alive: no name is that long */
    Slot *s = &slots[nd->next_slot];
    nd->next_slot = (nd->next_slot + 1) % SLOTS;
    Py_INCREF(key);
    Py_XSETREF(s->key, key);
    s->val = val;
    return val;
}

static int call_bool(PyObject *fn, PyObject *v) {
    PyObject *r = PyObject_CallOneArg(fn, v);
    if (r == NULL) {
        PyErr_Clear(); /* the fallback reports it as it always has */
        return UNSURE;
    }
    int b = PyObject_IsTrue(r);
    Py_DECREF(r);
    return b < 0 ? ERROR : b;
}

static int compare(PyObject *v, PyObject *bound, int op) {
    int r = PyObject_RichCompareBool(v, bound, op);
    return r < 0 ? ERROR : r;
}

/* Fold one keyword's answer into the node's: stop at the first INVALID or ERROR. */
#define FOLD(expr)                                  \
    do {                                            \
        int r_ = (expr);                            \
        if (r_ == INVALID || r_ == ERROR) return r_; \
        if (r_ == UNSURE) unsure = 1;               \
    } while (0)

/* The required names that props does not hold, looked up (the body's keys are known to
 * be plain strings by now). */
static int required(const Node *nd, PyObject *v) {
    if (!nd->required) return VALID;
    Py_ssize_t n = PyTuple_GET_SIZE(nd->required);
    for (Py_ssize_t i = 0; i < n; i++) {
        int r = PyDict_Contains(v, PyTuple_GET_ITEM(nd->required, i));
        if (r <= 0) return r < 0 ? ERROR : INVALID;
    }
    return VALID;
}

/* Most nodes a body meets say only `type` (or nothing): judged here, without the
 * call into check() and its set-up. */
static inline int visit(Program *p, int at, PyObject *v, int depth) {
    const Node *nd = &p->nodes[at];
    if (!nd->simple) return check(p, at, v, depth);
    int kind = kind_of(v);
    if (!kind) return UNSURE;
    if (nd->types && !(nd->types & kind)) return INVALID;
    if (kind == T_STR) return clean_str(v) ? VALID : UNSURE;
    if (kind & (T_ARR | T_OBJ)) return readable(v, depth + 1);
    return VALID;
}

static int check(Program *p, int at, PyObject *v, int depth) {
    Node *nd = &p->nodes[at];
    if (nd->never) return INVALID;
    if (depth > MAX_DEPTH) return UNSURE;
    int kind = kind_of(v);
    if (!kind) return UNSURE;
    int unsure = 0;
    /* A node that applies other nodes to the same value (a ref, allOf, anyOf) leaves its
     * unnamed children to them: it is valid only when they are, and they read them. */
    int delegates = nd->ref >= 0 || nd->allof_n || nd->anyof_n;
    if (nd->types && !(nd->types & kind)) return INVALID;
    if (nd->konst) FOLD(json_equal(v, nd->konst, 0));
    if (nd->enums) {
        Py_ssize_t n = PyTuple_GET_SIZE(nd->enums);
        int found = INVALID;
        for (Py_ssize_t i = 0; i < n && found != VALID; i++) {
            int r = json_equal(v, PyTuple_GET_ITEM(nd->enums, i), 0);
            if (r == ERROR) return ERROR;
            if (r == VALID || r == UNSURE) found = r;
        }
        FOLD(found);
    }
    switch (kind & ~T_INT) {
    case T_NUM:
        if (nd->minimum) FOLD(compare(v, nd->minimum, Py_GE));
        if (nd->maximum) FOLD(compare(v, nd->maximum, Py_LE));
        if (nd->xminimum) FOLD(compare(v, nd->xminimum, Py_GT));
        break;
    case T_STR: {
        if (!clean_str(v)) return UNSURE;
        Py_ssize_t n = PyUnicode_GET_LENGTH(v);
        if (nd->min_len >= 0 && n < nd->min_len) return INVALID;
        if (nd->max_len >= 0 && n > nd->max_len) return INVALID;
        if (nd->pattern) FOLD(call_bool(nd->pattern, v));
        if (nd->format) FOLD(call_bool(nd->format, v));
        break;
    }
    case T_ARR: {
        Py_ssize_t n = PyList_GET_SIZE(v);
        if (nd->min_items >= 0 && n < nd->min_items) return INVALID;
        if (nd->max_items >= 0 && n > nd->max_items) return INVALID;
        if (nd->items >= 0 || !delegates)
            for (Py_ssize_t i = 0; i < n; i++)
                FOLD(nd->items >= 0 ? visit(p, nd->items, PyList_GET_ITEM(v, i), depth + 1)
                                    : readable(PyList_GET_ITEM(v, i), depth + 1));
        break;
    }
    case T_OBJ: {
        /* Every key is read (and found to be a plain str) before anything is looked up
         * in the body (see str_keys). */
        if (!nd->props && nd->addl == -1 && delegates) {
            if ((nd->required || nd->sw_tag) && !str_keys(v)) return UNSURE;
            FOLD(required(nd, v));
            break;
        }
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        int required_seen = 0;
        while (PyDict_Next(v, &pos, &key, &value)) {
            if (!PyUnicode_CheckExact(key) || !clean_str(key)) return UNSURE;
            int sub = nd->addl;
            if (nd->props) {
                long val = prop_lookup(nd, key);
                if (val == -2) return ERROR;
                if (val >= 0) {
                    sub = (int)(val >> 1);
                    required_seen += (int)(val & 1);
                }
            }
            if (sub == -2) return INVALID;
            if (sub >= 0)
                FOLD(visit(p, sub, value, depth + 1));
            else if (!delegates)
                FOLD(readable(value, depth + 1));
        }
        if (required_seen < nd->req_props) return INVALID; /* (a dict's keys are distinct) */
        FOLD(required(nd, v));
        break;
    }
    }
    if (nd->ref >= 0) FOLD(visit(p, nd->ref, v, depth + 1));
    for (int i = 0; i < nd->allof_n; i++)
        FOLD(visit(p, p->pool[nd->allof_at + i], v, depth + 1));
    if (nd->sw_tag && kind == T_OBJ) {
        /* Every branch is allOf[{properties: {tag: {const: V}}, required: [tag]}, B]
         * with its own string V: only the branch named by the body's tag can pass, and
         * its first part holds already (the map gives B). */
        PyObject *tag = PyDict_GetItemWithError(v, nd->sw_tag);
        if (tag == NULL) return PyErr_Occurred() ? ERROR : INVALID;
        int tk = kind_of(tag);
        if (!tk) return UNSURE;
        if (tk != T_STR) return INVALID;
        if (!clean_str(tag)) return UNSURE;
        PyObject *idx = PyDict_GetItemWithError(nd->sw_map, tag);
        if (idx == NULL) return PyErr_Occurred() ? ERROR : INVALID;
        FOLD(visit(p, (int)PyLong_AsLong(idx), v, depth + 1));
    } else if (nd->anyof_n) {
        int best = INVALID;
        for (int i = 0; i < nd->anyof_n && best != VALID; i++) {
            int r = visit(p, p->pool[nd->anyof_at + i], v, depth + 1);
            if (r == ERROR) return ERROR;
            if (r == VALID || r == UNSURE) best = r;
        }
        FOLD(best);
    }
    return unsure ? UNSURE : VALID;
}

/* -- the Program type ------------------------------------------------------------------ */

static void free_nodes(Node *nodes, Py_ssize_t n) {
    if (nodes == NULL) return;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (nodes[i].slots == NULL) continue;
        for (int k = 0; k < SLOTS; k++) Py_XDECREF(nodes[i].slots[k].key);
        PyMem_Free(nodes[i].slots);
    }
    PyMem_Free(nodes);
}

/* The fallback may refer back to its program (a closure): the GC must see through it. */
static int Program_traverse(Program *self, visitproc visit, void *arg) {
    Py_VISIT(self->keep);
    Py_VISIT(self->owned);
    Py_VISIT(self->fallback);
    return 0;
}

static int Program_clear(Program *self) {
    free_nodes(self->nodes, self->n); /* the nodes borrow from keep and owned */
    self->nodes = NULL;
    self->n = 0;
    PyMem_Free(self->pool);
    self->pool = NULL;
    Py_CLEAR(self->keep);
    Py_CLEAR(self->owned);
    Py_CLEAR(self->fallback);
    return 0;
}

static void Program_dealloc(Program *self) {
    PyObject_GC_UnTrack(self);
    Program_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *or_null(PyObject *o) { return o == Py_None ? NULL : o; }


static int as_int(PyObject *o, Py_ssize_t *out) {
    *out = PyLong_AsSsize_t(o);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

/* Program(nodes, fallback): nodes is a list of 19-tuples, as _compact.py makes them:
 *   (never, types, ref, props, addl, items, required, allOf, anyOf, has_const, const,
 *    enum, minimum, maximum, exclusiveMinimum, (minLength, maxLength, minItems,
 *    maxItems), (pattern, format) or None, (tag, {value: node}) or None, req_props)
 * fallback(value) gives the verdict on a value this checker is unsure of.  Every
 * field is checked here: a malformed program is a ValueError, never a crash. */
#define FIELDS 19

static int node_index(PyObject *o, Py_ssize_t n, int lowest, int *out) {
    Py_ssize_t x;
    if (as_int(o, &x) < 0) return -1;
    if (x < lowest || x >= n) {
        PyErr_SetString(PyExc_ValueError, "a node refers past the end of the program");
        return -1;
    }
    *out = (int)x;
    return 0;
}

/* A copy of ``dict`` that the program keeps (in ``owned``): the caller's dict may change
 * after the program is made, the program's must not. Borrowed; NULL on an error. */
static PyObject *own(PyObject *owned, PyObject *dict) {
    PyObject *copy = PyDict_Copy(dict);
    if (copy == NULL) return NULL;
    int r = PyList_Append(owned, copy);
    Py_DECREF(copy);
    return r < 0 ? NULL : copy;
}

static int fill(Node *d, PyObject *t, Py_ssize_t n, int *pool, Py_ssize_t *used,
                PyObject *owned) {
    int b = PyObject_IsTrue(PyTuple_GET_ITEM(t, 0));
    if (b < 0) return -1;
    d->never = b;
    Py_ssize_t tmp;
    if (as_int(PyTuple_GET_ITEM(t, 1), &tmp) < 0) return -1;
    d->types = (int)tmp;
    if (node_index(PyTuple_GET_ITEM(t, 2), n, -1, &d->ref) < 0) return -1;
    d->props = or_null(PyTuple_GET_ITEM(t, 3));
    if (d->props) {
        if (!PyDict_CheckExact(d->props)) {
            PyErr_SetString(PyExc_ValueError, "properties must be a dict");
            return -1;
        }
        if ((d->props = own(owned, d->props)) == NULL) return -1;
        Py_ssize_t pos = 0;
        PyObject *k, *val;
        while (PyDict_Next(d->props, &pos, &k, &val)) {
            if (as_int(val, &tmp) < 0) return -1;
            if (!PyUnicode_CheckExact(k) || tmp < 0 || (tmp >> 1) >= n) {
                PyErr_SetString(PyExc_ValueError, "a property is not (name, node * 2 + flag)");
                return -1;
            }
        }
        d->slots = PyMem_Calloc(SLOTS, sizeof(Slot));
        if (d->slots == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    if (node_index(PyTuple_GET_ITEM(t, 4), n, -2, &d->addl) < 0) return -1;
    if (node_index(PyTuple_GET_ITEM(t, 5), n, -1, &d->items) < 0) return -1;
    d->required = or_null(PyTuple_GET_ITEM(t, 6));
    if (d->required && !PyTuple_CheckExact(d->required)) {
        PyErr_SetString(PyExc_ValueError, "required must be a tuple");
        return -1;
    }
    for (int k = 7; k <= 8; k++) {
        PyObject *lst = PyTuple_GET_ITEM(t, k);
        Py_ssize_t m = PyTuple_GET_SIZE(lst);
        for (Py_ssize_t j = 0; j < m; j++)
            if (node_index(PyTuple_GET_ITEM(lst, j), n, 0, &pool[*used + j]) < 0) return -1;
        if (k == 7) { d->allof_at = (int)*used; d->allof_n = (int)m; }
        else { d->anyof_at = (int)*used; d->anyof_n = (int)m; }
        *used += m;
    }
    b = PyObject_IsTrue(PyTuple_GET_ITEM(t, 9));
    if (b < 0) return -1;
    if (b) d->konst = PyTuple_GET_ITEM(t, 10);
    d->enums = or_null(PyTuple_GET_ITEM(t, 11));
    if (d->enums && !PyTuple_CheckExact(d->enums)) {
        PyErr_SetString(PyExc_ValueError, "enum must be a tuple");
        return -1;
    }
    d->minimum = or_null(PyTuple_GET_ITEM(t, 12));
    d->maximum = or_null(PyTuple_GET_ITEM(t, 13));
    d->xminimum = or_null(PyTuple_GET_ITEM(t, 14));
    PyObject *sizes = PyTuple_GET_ITEM(t, 15);
    if (!PyTuple_CheckExact(sizes) ||
        !PyArg_ParseTuple(sizes, "nnnn", &d->min_len, &d->max_len, &d->min_items,
                          &d->max_items)) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "sizes must be a 4-tuple");
        return -1;
    }
    PyObject *pf = PyTuple_GET_ITEM(t, 16);
    if (pf != Py_None) {
        if (!PyTuple_CheckExact(pf) || PyTuple_GET_SIZE(pf) != 2) {
            PyErr_SetString(PyExc_ValueError, "strings must be (pattern, format)");
            return -1;
        }
        d->pattern = or_null(PyTuple_GET_ITEM(pf, 0));
        d->format = or_null(PyTuple_GET_ITEM(pf, 1));
    }
    PyObject *sw = PyTuple_GET_ITEM(t, 17);
    if (sw != Py_None) {
        if (!PyTuple_CheckExact(sw) || PyTuple_GET_SIZE(sw) != 2 ||
            !PyUnicode_CheckExact(PyTuple_GET_ITEM(sw, 0)) ||
            !PyDict_CheckExact(PyTuple_GET_ITEM(sw, 1))) {
            PyErr_SetString(PyExc_ValueError, "a switch must be (tag, dict)");
            return -1;
        }
        d->sw_tag = PyTuple_GET_ITEM(sw, 0);
        if ((d->sw_map = own(owned, PyTuple_GET_ITEM(sw, 1))) == NULL) return -1;
        Py_ssize_t pos = 0;
        PyObject *k, *val;
        int ignored;
        while (PyDict_Next(d->sw_map, &pos, &k, &val))
            if (node_index(val, n, 0, &ignored) < 0) return -1;
        if (d->anyof_n == 0) {
            PyErr_SetString(PyExc_ValueError, "a switch needs its anyOf");
            return -1;
        }
    }
    if (as_int(PyTuple_GET_ITEM(t, 18), &tmp) < 0) return -1;
    d->req_props = (int)tmp;
    d->simple = !d->never && d->ref < 0 && !d->props && d->addl == -1 && d->items < 0 &&
                !d->required && !d->allof_n && !d->anyof_n && !d->konst && !d->enums &&
                !d->minimum && !d->maximum && !d->xminimum && d->min_len < 0 &&
                d->max_len < 0 && d->min_items < 0 && d->max_items < 0 && !d->pattern &&
                !d->format && !d->sw_tag && !d->req_props;
    return 0;
}

static int Program_init(Program *self, PyObject *args, PyObject *kwds) {
    PyObject *nodes, *fallback;
    if (!PyArg_ParseTuple(args, "O!O:Program", &PyList_Type, &nodes, &fallback)) return -1;
    PyObject *keep = PyList_AsTuple(nodes); /* what the nodes point into, kept alive */
    if (keep == NULL) return -1;
    Py_ssize_t n = PyTuple_GET_SIZE(keep);
    Py_ssize_t pool_n = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = PyTuple_GET_ITEM(keep, i);
        if (!PyTuple_CheckExact(t) || PyTuple_GET_SIZE(t) != FIELDS ||
            !PyTuple_CheckExact(PyTuple_GET_ITEM(t, 7)) ||
            !PyTuple_CheckExact(PyTuple_GET_ITEM(t, 8))) {
            PyErr_Format(PyExc_ValueError, "node %zd is not a program node", i);
            Py_DECREF(keep);
            return -1;
        }
        pool_n += PyTuple_GET_SIZE(PyTuple_GET_ITEM(t, 7)) +
                  PyTuple_GET_SIZE(PyTuple_GET_ITEM(t, 8));
    }
    if (n == 0) {
        PyErr_SetString(PyExc_ValueError, "a program needs at least one node");
        Py_DECREF(keep);
        return -1;
    }
    Node *nd = PyMem_Calloc((size_t)n, sizeof(Node));
    int *pool = PyMem_Calloc((size_t)(pool_n ? pool_n : 1), sizeof(int));
    if (nd == NULL || pool == NULL) {
        PyMem_Free(nd);
        PyMem_Free(pool);
        Py_DECREF(keep);
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t used = 0;
    PyObject *owned = PyList_New(0);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (owned != NULL && fill(&nd[i], PyTuple_GET_ITEM(keep, i), n, pool, &used, owned) == 0)
            continue;
        free_nodes(nd, n);
        PyMem_Free(pool);
        Py_DECREF(keep);
        Py_XDECREF(owned);
        return -1;
    }
    free_nodes(self->nodes, self->n);
    PyMem_Free(self->pool);
    self->nodes = nd;
    self->pool = pool;
    self->n = n;
    Py_XSETREF(self->keep, keep);
    Py_XSETREF(self->owned, owned);
    Py_INCREF(fallback);
    Py_XSETREF(self->fallback, fallback);
    return 0;
}

static int run(Program *self, int at, PyObject *v) {
    if (self->nodes == NULL) {
        PyErr_SetString(PyExc_ValueError, "the program was not initialised");
        return ERROR;
    }
    return check(self, at, v, 0);
}

static PyObject *verdict(Program *self, int r, PyObject *v) {
    if (r == ERROR) return NULL;
    if (r == UNSURE) return PyObject_CallOneArg(self->fallback, v);
    return PyBool_FromLong(r);
}

/* is_valid(value): the verdict of the root node; an unsure one is the fallback's. */
static PyObject *Program_is_valid(Program *self, PyObject *v) {
    return verdict(self, run(self, 0, v), v);
}

/* judge(value, node=0): 1, 0, or -1 when this checker cannot say (no fallback). */
static PyObject *Program_judge(Program *self, PyObject *args) {
    PyObject *v;
    int at = 0;
    if (!PyArg_ParseTuple(args, "O|i:judge", &v, &at)) return NULL;
    if (at < 0 || at >= self->n) {
        PyErr_SetString(PyExc_IndexError, "no such node");
        return NULL;
    }
    int r = run(self, at, v);
    if (r == ERROR) return NULL;
    return PyLong_FromLong(r);
}

static PyMethodDef Program_methods[] = {
    {"is_valid", (PyCFunction)Program_is_valid, METH_O,
     "is_valid(value) -> bool: the schema's verdict on value."},
    {"judge", (PyCFunction)Program_judge, METH_VARARGS,
     "judge(value, node=0) -> 1, 0, or -1 when the checker cannot say."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ProgramType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "aimlcat._verdict.Program",
    .tp_basicsize = sizeof(Program),
    .tp_dealloc = (destructor)Program_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)Program_traverse,
    .tp_clear = (inquiry)Program_clear,
    .tp_doc = "A compiled schema's yes/no checker (see aimlcat/_compact.py).",
    .tp_methods = Program_methods,
    .tp_init = (initproc)Program_init,
    .tp_new = PyType_GenericNew,
};

/* -- the context window's cheap bound (aimlcat/_tokens.py) ------------------------------ */

static PyObject *s_role, *s_content, *s_type, *s_text, *s_image_url;

/* What a text adds to the bound: its characters, times ``wide`` unless it is ASCII. */
static long long text_len(PyObject *text, long long wide) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    return PyUnicode_IS_ASCII(text) ? (long long)n : wide * (long long)n;
}

static PyObject *get_or_none(PyObject *d, PyObject *key, int *error) {
    PyObject *v = PyDict_GetItemWithError(d, key);
    if (v == NULL && PyErr_Occurred()) *error = 1;
    return v;
}

/* plain_bound(items, roles, wide, per_string, image_upper, role_bytes) -> int | None:
 * _tokens._quick_plain in C, the same sum for the same messages; None where that
 * raises _NotPlain (and for lists, dicts and strings of a subclass, which the general
 * loop then reads: a bound as safe, if looser). */
static PyObject *plain_bound(PyObject *mod, PyObject *args) {
    PyObject *items, *roles;
    long long wide, per_string, image_upper, role_bytes;
    if (!PyArg_ParseTuple(args, "OOLLLL:plain_bound", &items, &roles, &wide, &per_string,
                          &image_upper, &role_bytes))
        return NULL;
    if (!PyList_CheckExact(items) || !PyFrozenSet_CheckExact(roles)) Py_RETURN_NONE;
    /* Only dicts whose keys are plain strings are looked into, and only plain strings
     * compared: nothing here runs Python code (an __eq__, a __hash__) that could change
     * what the loop holds borrowed references to. Anything else is "not plain". */
    long long n = role_bytes * (long long)PyList_GET_SIZE(items);
    int error = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *m = PyList_GET_ITEM(items, i);
        if (!PyDict_CheckExact(m) || PyDict_GET_SIZE(m) != 2 || !str_keys(m)) Py_RETURN_NONE;
        PyObject *role = get_or_none(m, s_role, &error);
        if (error) return NULL;
        if (role == NULL || !PyUnicode_CheckExact(role)) Py_RETURN_NONE;
        int known = PySet_Contains(roles, role);
        if (known < 0) {
            if (!PyErr_ExceptionMatches(PyExc_TypeError)) return NULL;
            PyErr_Clear(); /* an unhashable role */
            Py_RETURN_NONE;
        }
        if (!known) Py_RETURN_NONE;
        PyObject *content = get_or_none(m, s_content, &error);
        if (error) return NULL;
        if (content == NULL) Py_RETURN_NONE;
        if (PyUnicode_CheckExact(content)) {
            n += text_len(content, wide);
            continue;
        }
        if (!PyList_CheckExact(content)) Py_RETURN_NONE;
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(content); j++) {
            PyObject *part = PyList_GET_ITEM(content, j);
            if (!PyDict_CheckExact(part) || PyDict_GET_SIZE(part) != 2 || !str_keys(part))
                Py_RETURN_NONE;
            PyObject *kind = get_or_none(part, s_type, &error);
            if (error) return NULL;
            if (kind == NULL || !PyUnicode_CheckExact(kind)) Py_RETURN_NONE;
            int is_text = PyUnicode_Compare(kind, s_text) == 0;
            int is_image = !is_text && PyUnicode_Compare(kind, s_image_url) == 0;
            if (is_text) {
                PyObject *text = get_or_none(part, s_text, &error);
                if (error) return NULL;
                if (text == NULL || !PyUnicode_CheckExact(text)) Py_RETURN_NONE;
                n += text_len(text, wide) + per_string;
            } else if (is_image) {
                n += image_upper;
            } else {
                Py_RETURN_NONE;
            }
        }
    }
    return PyLong_FromLongLong(n);
}

/* -- passing over a JSON value in a text (aimlcat/_positions.py) ------------------------ */

/* The offset just past the JSON value that starts at ``pos`` in a str's data (valid
 * JSON there), or -1 when the text ends first. */
static Py_ssize_t skip_value(int kind, const void *data, Py_ssize_t n, Py_ssize_t pos) {
    if (pos < 0 || pos >= n) return -1;
    Py_UCS4 c = PyUnicode_READ(kind, data, pos);
    Py_ssize_t i = pos;
    if (c == '"' || c == '{' || c == '[') {
        Py_ssize_t depth = 0;
        int in_string = 0;
        for (; i < n; i++) {
            c = PyUnicode_READ(kind, data, i);
            if (in_string) {
                if (c == '\\') i++;
                else if (c == '"') {
                    in_string = 0;
                    if (depth == 0) return i + 1;
                }
            } else if (c == '"') {
                in_string = 1;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) return i + 1;
                if (depth < 0) break;
            }
        }
        return -1;
    }
    /* a number, true, false or null: up to the next delimiter */
    for (; i < n; i++) {
        c = PyUnicode_READ(kind, data, i);
        if (c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' ||
            c == '\r')
            break;
    }
    return i == pos ? -1 : i;
}

/* skip_json(text, pos) -> int: the offset just past the JSON value that starts at ``pos``
 * in ``text`` (a str holding valid JSON there), without making the value: the
 * positions walk passes over every value off the pointers it wants. ValueError when
 * the text ends first. */
static PyObject *skip_json(PyObject *mod, PyObject *args) {
    PyObject *text;
    Py_ssize_t pos;
    if (!PyArg_ParseTuple(args, "Un:skip_json", &text, &pos)) return NULL;
    Py_ssize_t end = skip_value(PyUnicode_KIND(text), PyUnicode_DATA(text),
                                PyUnicode_GET_LENGTH(text), pos);
    if (end < 0) {
        PyErr_Format(PyExc_ValueError, "no JSON value ends after offset %zd", pos);
        return NULL;
    }
    return PyLong_FromSsize_t(end);
}

/* -- placing JSON Pointers in a text (aimlcat/_positions.py) ---------------------------- */

#define LOC_DONE (-2)    /* every pointer asked for is placed: stop reading */
#define LOC_ERROR (-3)   /* an exception is set */
#define LOC_PYTHON (-4)  /* something the Python walk reads (an escaped key): let it */

typedef struct {
    int kind;
    const void *data;
    Py_ssize_t n;
    PyObject *text, *kids, *out, *wanted; /* wanted: a list of pointers */
    char *closed;                         /* per wanted pointer */
    Py_ssize_t open;
    int exact;
} Loc;

static Py_ssize_t loc_ws(const Loc *L, Py_ssize_t i) {
    while (i < L->n) {
        Py_UCS4 c = PyUnicode_READ(L->kind, L->data, i);
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        i++;
    }
    return i;
}

/* The value at ``ptr`` was read whole: it, and every pointer asked for inside it, is
 * placed (found, or known to be missing). LOC_DONE when nothing is left to place. */
static int loc_closed(Loc *L, PyObject *ptr) {
    if (L->exact) return 0;
    Py_ssize_t plen = PyUnicode_GET_LENGTH(ptr);
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(L->wanted); k++) {
        if (L->closed[k]) continue;
        PyObject *w = PyList_GET_ITEM(L->wanted, k);
        Py_ssize_t wlen = PyUnicode_GET_LENGTH(w);
        int inside = wlen == plen ? PyUnicode_Compare(w, ptr) == 0
                   : wlen > plen && PyUnicode_Tailmatch(w, ptr, 0, plen, -1) == 1 &&
                         PyUnicode_READ_CHAR(w, plen) == '/';
        if (inside) {
            L->closed[k] = 1;
            L->open--;
        }
    }
    return L->open == 0 ? LOC_DONE : 0;
}

/* The node of ``ptr`` in the output: a list [value_start, value_end, key_start,
 * key_end] (borrowed), made on first need. */
static PyObject *loc_node(Loc *L, PyObject *ptr) {
    PyObject *node = PyDict_GetItemWithError(L->out, ptr);
    if (node != NULL || PyErr_Occurred()) return node;
    node = Py_BuildValue("[nnnn]", (Py_ssize_t)-1, (Py_ssize_t)-1, (Py_ssize_t)-1,
                         (Py_ssize_t)-1);
    if (node == NULL) return NULL;
    int r = PyDict_SetItem(L->out, ptr, node);
    Py_DECREF(node);
    return r < 0 ? NULL : node;
}

static int loc_set(PyObject *node, Py_ssize_t at, Py_ssize_t v) {
    PyObject *o = PyLong_FromSsize_t(v);
    if (o == NULL) return -1;
    return PyList_SetItem(node, at, o); /* steals o */
}

/* Walk the (wanted) value at ``pos`` whose pointer is ``ptr``: the offset just past it,
 * or LOC_DONE / LOC_ERROR / LOC_PYTHON. As _positions._JsonWalk.value does. */
static Py_ssize_t loc_value(Loc *L, Py_ssize_t pos, PyObject *ptr, int depth) {
    if (depth > 1000 || pos >= L->n) return LOC_PYTHON;
    PyObject *node = loc_node(L, ptr);
    if (node == NULL || loc_set(node, 0, pos) < 0) return LOC_ERROR;
    PyObject *kids = PyDict_GetItemWithError(L->kids, ptr);
    if (kids == NULL) return PyErr_Occurred() ? LOC_ERROR : LOC_PYTHON;
    if (!PyDict_Check(kids)) {
        PyErr_SetString(PyExc_TypeError, "kids must map pointers to dicts");
        return LOC_ERROR;
    }
    Py_UCS4 c = PyUnicode_READ(L->kind, L->data, pos);
    Py_ssize_t end;
    if (c == '{' || c == '[') {
        int object = c == '{';
        Py_UCS4 close = object ? '}' : ']';
        Py_ssize_t i = loc_ws(L, pos + 1), index = 0;
        while (i < L->n && PyUnicode_READ(L->kind, L->data, i) != close) {
            PyObject *name;
            Py_ssize_t ks = -1, ke = -1;
            if (object) {
                if (PyUnicode_READ(L->kind, L->data, i) != '"') return LOC_PYTHON;
                ks = i;
                for (ke = i + 1; ke < L->n; ke++) {
                    Py_UCS4 k = PyUnicode_READ(L->kind, L->data, ke);
                    if (k == '\\') return LOC_PYTHON; /* an escaped key: the Python walk */
                    if (k == '"') break;
                }
                if (ke >= L->n) return LOC_PYTHON;
                ke++; /* past the closing quote */
                name = PyUnicode_Substring(L->text, ks + 1, ke - 1);
                if (name == NULL) return LOC_ERROR; /* not LOC_PYTHON: an exception is set */
                i = loc_ws(L, ke);
                if (i >= L->n || PyUnicode_READ(L->kind, L->data, i) != ':') {
                    Py_DECREF(name);
                    return LOC_PYTHON;
                }
                i = loc_ws(L, i + 1);
            } else {
                name = PyLong_FromSsize_t(index++);
            }
            if (name == NULL) return LOC_ERROR;
            PyObject *child = PyDict_GetItemWithError(kids, name);
            Py_DECREF(name);
            if (child == NULL && PyErr_Occurred()) return LOC_ERROR;
            if (child != NULL && !PyUnicode_Check(child)) {
                PyErr_SetString(PyExc_TypeError, "a child pointer must be a str");
                return LOC_ERROR;
            }
            if (child == NULL) {
                i = skip_value(L->kind, L->data, L->n, i);
                if (i < 0) return LOC_PYTHON;
            } else {
                Py_INCREF(child);
                PyObject *cnode = object ? loc_node(L, child) : NULL;
                if (object && (cnode == NULL || loc_set(cnode, 2, ks) < 0 ||
                               loc_set(cnode, 3, ke) < 0)) {
                    Py_DECREF(child);
                    return LOC_ERROR;
                }
                i = loc_value(L, i, child, depth + 1);
                Py_DECREF(child);
                if (i < 0) return i;
            }
            i = loc_ws(L, i);
            if (i < L->n && PyUnicode_READ(L->kind, L->data, i) == ',') i = loc_ws(L, i + 1);
        }
        if (i >= L->n) return LOC_PYTHON;
        end = i + 1;
    } else {
        end = skip_value(L->kind, L->data, L->n, pos);
        if (end < 0) return LOC_PYTHON;
    }
    if (loc_set(node, 1, end) < 0) return LOC_ERROR;
    int r = loc_closed(L, ptr);
    return r == LOC_DONE ? LOC_DONE : end;
}

/* locate_json(text, kids, wanted, exact) -> dict | None: for each pointer on the wanted
 * paths found in ``text`` (valid JSON), [value_start, value_end, key_start, key_end];
 * ``kids`` maps each such container's pointer to {key or index: child pointer}, as
 * _positions._JsonWalk makes it. Reading stops once every pointer of ``wanted`` (a
 * list) is placed, unless ``exact``. None where the Python walk must read the text (a
 * key written with escapes). */
static PyObject *locate_json(PyObject *mod, PyObject *args) {
    Loc L;
    if (!PyArg_ParseTuple(args, "UO!O!p:locate_json", &L.text, &PyDict_Type, &L.kids,
                          &PyList_Type, &L.wanted, &L.exact))
        return NULL;
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(L.wanted); k++)
        if (!PyUnicode_Check(PyList_GET_ITEM(L.wanted, k))) {
            PyErr_SetString(PyExc_TypeError, "wanted pointers must be str");
            return NULL;
        }
    L.kind = PyUnicode_KIND(L.text);
    L.data = PyUnicode_DATA(L.text);
    L.n = PyUnicode_GET_LENGTH(L.text);
    L.open = PyList_GET_SIZE(L.wanted);
    L.closed = PyMem_Calloc((size_t)L.open + 1, 1);
    L.out = PyDict_New();
    if (L.closed == NULL || L.out == NULL) {
        PyMem_Free(L.closed);
        Py_XDECREF(L.out);
        return PyErr_NoMemory();
    }
    PyObject *root = PyUnicode_FromStringAndSize("", 0);
    Py_ssize_t r = root == NULL ? LOC_ERROR : loc_value(&L, loc_ws(&L, 0), root, 0);
    Py_XDECREF(root);
    PyMem_Free(L.closed);
    if (r == LOC_ERROR || r == LOC_PYTHON) {
        Py_DECREF(L.out);
        if (r == LOC_ERROR) return NULL;
        Py_RETURN_NONE;
    }
    return L.out;
}

static PyMethodDef module_methods[] = {
    {"skip_json", skip_json, METH_VARARGS,
     "skip_json(text, pos) -> int: the offset just past the JSON value at pos"},
    {"locate_json", locate_json, METH_VARARGS,
     "locate_json(text, kids, wanted, exact) -> dict | None: offsets of the wanted pointers"},
    {"plain_bound", plain_bound, METH_VARARGS,
     "plain_bound(items, roles, wide, per_string, image_upper, role_bytes) -> int | None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "aimlcat._verdict",
    "A compact yes/no JSON Schema checker (see aimlcat/_compact.py).", -1, module_methods,
};

PyMODINIT_FUNC PyInit__verdict(void) {
    if (PyType_Ready(&ProgramType) < 0) return NULL;
    if (!(s_role = PyUnicode_InternFromString("role")) ||
        !(s_content = PyUnicode_InternFromString("content")) ||
        !(s_type = PyUnicode_InternFromString("type")) ||
        !(s_text = PyUnicode_InternFromString("text")) ||
        !(s_image_url = PyUnicode_InternFromString("image_url")))
        return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    if (m == NULL) return NULL;
    Py_INCREF(&ProgramType);
    if (PyModule_AddObject(m, "Program", (PyObject *)&ProgramType) < 0) {
        Py_DECREF(&ProgramType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
