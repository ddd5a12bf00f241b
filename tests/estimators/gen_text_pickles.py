# Writes tests/estimators/text_pickles.h (run with Debian's /usr/bin/python3: sklearn 1.2.1).
# Usage: /usr/bin/python3 tests/estimators/gen_text_pickles.py > tests/estimators/text_pickles.h (then restore the first comment line).
import pickle, sys, types, numpy as np, scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer, TfidfTransformer
out = []
def emit(name, obj):
    b = pickle.dumps(obj, protocol=2)
    lines = []
    for i in range(0, len(b), 40):
        lines.append('    "' + ''.join('\\x%02x' % c for c in b[i:i+40]) + '"')
    out.append('static const char P_%s[] =\n%s\n;' % (name, '\n'.join(lines)))
def emit_d(name, arr):
    out.append('static const double T_%s[] = {%s};' % (name, ', '.join(repr(float(v)) for v in np.asarray(arr).ravel())))
def cstr(s):
    return '"' + ''.join('\\x%02x' % c for c in s.encode('utf-8')) + '"'
corpus = ["The cat sat on the mat.", "Café naïve Straße İstanbul", "ΟΔΥΣΣΕΥΣ Σίσυφος σοφός", "東京 タワー 🙂 emoji🙂x",
          "snake_case x_y 42 a 3.14 __init__", "the THE The cat"]
docs = corpus + ["unknown words only", "", "CAT cat Cat café CAFÉ",
                 # Unicode 15.0 letters are unassigned to CPython 3.11 (Unicode 14.0): not \\w, no
                 # case, no combining class; PCRE2's \\s differs from str.isspace (U+180E, U+001C)
                 "ΑΣ\U0001e030 ΑΣ \U0001e030Σ a\U00010efdb", "a\u180eb c\x1cd e\u2003f"]
out.append('static const char *const T_DOCS[] = {%s};' % ', '.join(cstr(d) for d in docs))
out.append('#define N_DOCS %d' % len(docs))
cases = {
 'count_bigram': CountVectorizer(ngram_range=(1, 2)),
 'tfidf': TfidfVectorizer(),
 'char_wb': CountVectorizer(analyzer='char_wb', ngram_range=(2, 3)),
 'char': CountVectorizer(analyzer='char', ngram_range=(1, 2), lowercase=False),
 'pattern': CountVectorizer(token_pattern=r"(\w)\w*"),
 'stop': CountVectorizer(stop_words='english', ngram_range=(1, 2)),
 'accents': TfidfVectorizer(strip_accents='unicode', norm='l1', sublinear_tf=True),
 'ascii': CountVectorizer(strip_accents='ascii', binary=True),
 'spaces': CountVectorizer(token_pattern=r"[^\s]+", lowercase=False),
}
for name, v in cases.items():
    v.fit(corpus)
    emit(name, v)
    emit_d(name, v.transform(docs).toarray())
    out.append('#define W_%s %d' % (name, len(v.vocabulary_)))
# pipelines: the vectorizer's CSR rows go on sparse (brine_model_predict_cells; "" is a missing cell)
from sklearn.pipeline import make_pipeline
from sklearn.linear_model import LogisticRegression
ne = [d for d in docs if d]
out.append('static const char *const T_DOCS_NE[] = {%s};' % ', '.join(cstr(d) for d in ne))
out.append('#define N_DOCS_NE %d' % len(ne))
yl = [0, 1, 2, 2, 0, 0]
for name, p in (('pipe_lr', make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression())),
                ('pipe_count_tfidf_lr', make_pipeline(CountVectorizer(), TfidfTransformer(norm='l1'),
                                                      LogisticRegression(C=5.0)))):
    p.fit(corpus, yl)
    emit(name, p)
    emit_d(name, p.decision_function(ne))
# standalone TfidfTransformer on counts
cnt = np.array([[3, 0, 1], [2, 0, 0], [3, 0, 0], [4, 0, 0], [3, 2, 0], [3, 0, 2]], dtype=float)
tt = TfidfTransformer().fit(cnt)
emit('transformer', tt)
out.append('static const double T_COUNTS[] = {%s};' % ', '.join(repr(float(x)) for x in cnt.ravel()))
emit_d('transformer', tt.transform(cnt).toarray())
# hostile
def fitted():
    return CountVectorizer().fit(["aa bb cc", "bb dd"])
v = fitted(); v.vocabulary_ = {'aa': 0, 'bb': 9, 'cc': 2, 'dd': 3}; emit('vocab_range', v)
v = fitted(); v.vocabulary_ = {'aa': 0, 'bb': 1, 'cc': 1, 'dd': 3}; emit('vocab_dup', v)
v = fitted(); v.vocabulary_ = {'aa': 0, 7: 1, 'cc': 2, 'dd': 3}; emit('vocab_key', v)
v = fitted(); v.vocabulary_ = {'aa': 0, 'bb': 'one', 'cc': 2, 'dd': 3}; emit('vocab_val', v)
v = fitted(); v.vocabulary_ = {'aa': 0, 'bb': -1, 'cc': 2, 'dd': 3}; emit('vocab_neg', v)
v = fitted(); v.vocabulary_ = []; emit('vocab_list', v)
t = TfidfVectorizer().fit(["aa bb cc", "bb dd"])
t._tfidf._idf_diag = sp.diags(np.ones(7), offsets=0, shape=(7, 7), format='csr'); emit('idf_shape', t)
t = TfidfVectorizer().fit(["aa bb cc", "bb dd"])
d = t._tfidf._idf_diag.copy(); d.indices = d.indices.copy(); d.indices[1] = 40; t._tfidf._idf_diag = d; emit('idf_index', t)
t = TfidfVectorizer().fit(["aa bb cc", "bb dd"])
d = t._tfidf._idf_diag.copy(); d.indptr = d.indptr.copy(); d.indptr[2] = 100; t._tfidf._idf_diag = d; emit('idf_indptr', t)
t = TfidfVectorizer().fit(["aa bb cc", "bb dd"]); t.ngram_range = (3, 2); emit('ngram_bad', t)
t = TfidfVectorizer().fit(["aa bb cc", "bb dd"]); t._tfidf.norm = 'max'; emit('norm_max', t)
t = TfidfVectorizer().fit(["aa bb cc", "bb dd"]); t.ngram_range = (1, 5000); emit('ngram_huge', t)
v = fitted(); v.dtype = np.str_; emit('dtype_str', v)
t = TfidfVectorizer().fit(["aa bb cc", "bb dd"]); del t._tfidf._idf_diag; t._tfidf.__dict__['idf_'] = np.ones(3)
emit('idf_len', t)
mod = types.ModuleType('mytok'); sys.modules['mytok'] = mod
def tok(s): return s.split()
tok.__module__ = 'mytok'; tok.__qualname__ = 'tok'; mod.tok = tok
v = CountVectorizer(tokenizer=tok).fit(["aa bb cc", "bb dd"]); emit('tokenizer', v)
v = CountVectorizer(analyzer=tok).fit(["aa bb cc", "bb dd"]); emit('analyzer', v)
v = fitted(); v.token_pattern = r"(a)(b)"; emit('two_groups', v)
print('\n'.join(out))
