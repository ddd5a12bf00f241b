/* registry.c — which pickled class names brine predicts with, and how.
 *
 * Every module path sklearn has used for these classes is listed: the
 * public-looking modules of sklearn < 0.22 (sklearn.tree.tree,
 * sklearn.ensemble.forest) and the private ones since (sklearn.tree._classes,
 * sklearn.ensemble._forest).  The table is sorted by (module, name) in strcmp
 * order for a binary search; a test checks the order. */
#include <string.h>

#include "estimators/estimator.h"

#define TREE(mod, cls, clf) {mod, cls, &be_tree_family, clf, NULL}
#define FOREST(mod, cls, clf, kind) {mod, cls, &be_forest_family, clf, kind}
#define GB(mod, cls, clf) {mod, cls, &be_gb_family, clf, NULL}
#define HGB(mod, cls, clf) {mod, cls, &be_hgb_family, clf, NULL}
#define KMEANS(mod, cls) {mod, cls, &be_kmeans_family, 0, NULL}
#define DECOMP(mod, cls) {mod, cls, &be_decomposition_family, 0, NULL}
#define MLP(mod, cls, clf) {mod, cls, &be_mlp_family, clf, NULL}
#define LINEAR(mod, cls, clf) {mod, cls, &be_linear_family, clf, NULL}
#define SCALER(mod, cls) {mod, cls, &be_preprocess_family, 0, NULL}
#define SVM(mod, cls, clf) {mod, cls, &be_svm_family, clf, NULL}
#define NB(mod, cls) {mod, cls, &be_nb_family, 1, NULL}
#define NEIGH(mod, cls, clf) {mod, cls, &be_neighbors_family, clf, NULL}
#define ENS(mod, cls, fam, clf) {mod, cls, &fam, clf, NULL}

static const be_class classes[] = {
    KMEANS("sklearn.cluster._affinity_propagation", "AffinityPropagation"),
    KMEANS("sklearn.cluster._birch", "Birch"),
    KMEANS("sklearn.cluster._bisect_k_means", "BisectingKMeans"),
    KMEANS("sklearn.cluster._kmeans", "KMeans"),
    KMEANS("sklearn.cluster._kmeans", "MiniBatchKMeans"),
    KMEANS("sklearn.cluster._mean_shift", "MeanShift"),
    KMEANS("sklearn.cluster.affinity_propagation_", "AffinityPropagation"),
    KMEANS("sklearn.cluster.birch", "Birch"),
    KMEANS("sklearn.cluster.k_means_", "KMeans"),
    KMEANS("sklearn.cluster.k_means_", "MiniBatchKMeans"),
    KMEANS("sklearn.cluster.mean_shift_", "MeanShift"),
    {"sklearn.compose._column_transformer", "ColumnTransformer", &be_compose_family, 0, NULL},
    {"sklearn.compose._target", "TransformedTargetRegressor", &be_target_family, 0, NULL},
    DECOMP("sklearn.decomposition._factor_analysis", "FactorAnalysis"),
    DECOMP("sklearn.decomposition._fastica", "FastICA"),
    DECOMP("sklearn.decomposition._incremental_pca", "IncrementalPCA"),
    DECOMP("sklearn.decomposition._pca", "PCA"),
    DECOMP("sklearn.decomposition._truncated_svd", "TruncatedSVD"),
    DECOMP("sklearn.decomposition.factor_analysis", "FactorAnalysis"),
    DECOMP("sklearn.decomposition.fastica_", "FastICA"),
    DECOMP("sklearn.decomposition.incremental_pca", "IncrementalPCA"),
    DECOMP("sklearn.decomposition.pca", "PCA"),
    DECOMP("sklearn.decomposition.truncated_svd", "TruncatedSVD"),
    ENS("sklearn.ensemble._bagging", "BaggingClassifier", be_bagging_family, 1),
    ENS("sklearn.ensemble._bagging", "BaggingRegressor", be_bagging_family, 0),
    FOREST("sklearn.ensemble._forest", "ExtraTreesClassifier", 1, "ExtraTree"),
    FOREST("sklearn.ensemble._forest", "ExtraTreesRegressor", 0, "ExtraTree"),
    FOREST("sklearn.ensemble._forest", "RandomForestClassifier", 1, "DecisionTree"),
    FOREST("sklearn.ensemble._forest", "RandomForestRegressor", 0, "DecisionTree"),
    GB("sklearn.ensemble._gb", "GradientBoostingClassifier", 1),
    GB("sklearn.ensemble._gb", "GradientBoostingRegressor", 0),
    HGB("sklearn.ensemble._hist_gradient_boosting.gradient_boosting", "HistGradientBoostingClassifier", 1),
    HGB("sklearn.ensemble._hist_gradient_boosting.gradient_boosting", "HistGradientBoostingRegressor", 0),
    ENS("sklearn.ensemble._iforest", "IsolationForest", be_iforest_family, 0),
    ENS("sklearn.ensemble._stacking", "StackingClassifier", be_stacking_family, 1),
    ENS("sklearn.ensemble._stacking", "StackingRegressor", be_stacking_family, 0),
    ENS("sklearn.ensemble._voting", "VotingClassifier", be_voting_family, 1),
    ENS("sklearn.ensemble._voting", "VotingRegressor", be_voting_family, 0),
    ENS("sklearn.ensemble._weight_boosting", "AdaBoostClassifier", be_adaboost_family, 1),
    ENS("sklearn.ensemble._weight_boosting", "AdaBoostRegressor", be_adaboost_family, 0),
    ENS("sklearn.ensemble.bagging", "BaggingClassifier", be_bagging_family, 1),
    ENS("sklearn.ensemble.bagging", "BaggingRegressor", be_bagging_family, 0),
    FOREST("sklearn.ensemble.forest", "ExtraTreesClassifier", 1, "ExtraTree"),
    FOREST("sklearn.ensemble.forest", "ExtraTreesRegressor", 0, "ExtraTree"),
    FOREST("sklearn.ensemble.forest", "RandomForestClassifier", 1, "DecisionTree"),
    FOREST("sklearn.ensemble.forest", "RandomForestRegressor", 0, "DecisionTree"),
    GB("sklearn.ensemble.gradient_boosting", "GradientBoostingClassifier", 1),
    GB("sklearn.ensemble.gradient_boosting", "GradientBoostingRegressor", 0),
    ENS("sklearn.ensemble.iforest", "IsolationForest", be_iforest_family, 0),
    ENS("sklearn.ensemble.voting", "VotingClassifier", be_voting_family, 1),
    ENS("sklearn.ensemble.voting", "VotingRegressor", be_voting_family, 0),
    ENS("sklearn.ensemble.voting_classifier", "VotingClassifier", be_voting_family, 1),
    ENS("sklearn.ensemble.weight_boosting", "AdaBoostClassifier", be_adaboost_family, 1),
    ENS("sklearn.ensemble.weight_boosting", "AdaBoostRegressor", be_adaboost_family, 0),
    {"sklearn.feature_extraction.text", "CountVectorizer", &be_text_family, 0, NULL},
    {"sklearn.feature_extraction.text", "TfidfTransformer", &be_text_family, 0, NULL},
    {"sklearn.feature_extraction.text", "TfidfVectorizer", &be_text_family, 0, NULL},
    {"sklearn.feature_selection._univariate_selection", "SelectKBest", &be_select_family, 0, NULL},
    {"sklearn.feature_selection._univariate_selection", "SelectPercentile", &be_select_family, 0, NULL},
    {"sklearn.feature_selection._variance_threshold", "VarianceThreshold", &be_select_family, 0, NULL},
    {"sklearn.feature_selection.univariate_selection", "SelectKBest", &be_select_family, 0, NULL},
    {"sklearn.feature_selection.univariate_selection", "SelectPercentile", &be_select_family, 0, NULL},
    {"sklearn.feature_selection.variance_threshold", "VarianceThreshold", &be_select_family, 0, NULL},
    {"sklearn.impute", "SimpleImputer", &be_impute_family, 0, NULL},
    {"sklearn.impute._base", "SimpleImputer", &be_impute_family, 0, NULL},
    LINEAR("sklearn.linear_model._base", "LinearRegression", 0),
    LINEAR("sklearn.linear_model._bayes", "ARDRegression", 0),
    LINEAR("sklearn.linear_model._bayes", "BayesianRidge", 0),
    LINEAR("sklearn.linear_model._coordinate_descent", "ElasticNet", 0),
    LINEAR("sklearn.linear_model._coordinate_descent", "ElasticNetCV", 0),
    LINEAR("sklearn.linear_model._coordinate_descent", "Lasso", 0),
    LINEAR("sklearn.linear_model._coordinate_descent", "LassoCV", 0),
    LINEAR("sklearn.linear_model._huber", "HuberRegressor", 0),
    LINEAR("sklearn.linear_model._least_angle", "Lars", 0),
    LINEAR("sklearn.linear_model._least_angle", "LassoLars", 0),
    LINEAR("sklearn.linear_model._logistic", "LogisticRegression", 1),
    LINEAR("sklearn.linear_model._logistic", "LogisticRegressionCV", 1),
    LINEAR("sklearn.linear_model._omp", "OrthogonalMatchingPursuit", 0),
    LINEAR("sklearn.linear_model._passive_aggressive", "PassiveAggressiveClassifier", 1),
    LINEAR("sklearn.linear_model._passive_aggressive", "PassiveAggressiveRegressor", 0),
    LINEAR("sklearn.linear_model._perceptron", "Perceptron", 1),
    LINEAR("sklearn.linear_model._ridge", "Ridge", 0),
    LINEAR("sklearn.linear_model._ridge", "RidgeCV", 0),
    LINEAR("sklearn.linear_model._ridge", "RidgeClassifier", 1),
    LINEAR("sklearn.linear_model._ridge", "RidgeClassifierCV", 1),
    LINEAR("sklearn.linear_model._stochastic_gradient", "SGDClassifier", 1),
    LINEAR("sklearn.linear_model._stochastic_gradient", "SGDRegressor", 0),
    LINEAR("sklearn.linear_model.base", "LinearRegression", 0),
    LINEAR("sklearn.linear_model.bayes", "ARDRegression", 0),
    LINEAR("sklearn.linear_model.bayes", "BayesianRidge", 0),
    LINEAR("sklearn.linear_model.coordinate_descent", "ElasticNet", 0),
    LINEAR("sklearn.linear_model.coordinate_descent", "ElasticNetCV", 0),
    LINEAR("sklearn.linear_model.coordinate_descent", "Lasso", 0),
    LINEAR("sklearn.linear_model.coordinate_descent", "LassoCV", 0),
    LINEAR("sklearn.linear_model.huber", "HuberRegressor", 0),
    LINEAR("sklearn.linear_model.least_angle", "Lars", 0),
    LINEAR("sklearn.linear_model.least_angle", "LassoLars", 0),
    LINEAR("sklearn.linear_model.logistic", "LogisticRegression", 1),
    LINEAR("sklearn.linear_model.logistic", "LogisticRegressionCV", 1),
    LINEAR("sklearn.linear_model.omp", "OrthogonalMatchingPursuit", 0),
    LINEAR("sklearn.linear_model.passive_aggressive", "PassiveAggressiveClassifier", 1),
    LINEAR("sklearn.linear_model.passive_aggressive", "PassiveAggressiveRegressor", 0),
    LINEAR("sklearn.linear_model.perceptron", "Perceptron", 1),
    LINEAR("sklearn.linear_model.ridge", "Ridge", 0),
    LINEAR("sklearn.linear_model.ridge", "RidgeCV", 0),
    LINEAR("sklearn.linear_model.ridge", "RidgeClassifier", 1),
    LINEAR("sklearn.linear_model.ridge", "RidgeClassifierCV", 1),
    LINEAR("sklearn.linear_model.stochastic_gradient", "SGDClassifier", 1),
    LINEAR("sklearn.linear_model.stochastic_gradient", "SGDRegressor", 0),
    {"sklearn.model_selection._search", "GridSearchCV", &be_search_family, 0, NULL},
    {"sklearn.model_selection._search", "RandomizedSearchCV", &be_search_family, 0, NULL},
    {"sklearn.model_selection._search_successive_halving", "HalvingGridSearchCV", &be_search_family, 0, NULL},
    {"sklearn.model_selection._search_successive_halving", "HalvingRandomSearchCV", &be_search_family, 0, NULL},
    {"sklearn.multiclass", "OneVsOneClassifier", &be_ovo_family, 1, NULL},
    {"sklearn.multiclass", "OneVsRestClassifier", &be_ovr_family, 1, NULL},
    NB("sklearn.naive_bayes", "BernoulliNB"),
    NB("sklearn.naive_bayes", "CategoricalNB"),
    NB("sklearn.naive_bayes", "ComplementNB"),
    NB("sklearn.naive_bayes", "GaussianNB"),
    NB("sklearn.naive_bayes", "MultinomialNB"),
    NEIGH("sklearn.neighbors._classification", "KNeighborsClassifier", 1),
    NEIGH("sklearn.neighbors._nearest_centroid", "NearestCentroid", 1),
    NEIGH("sklearn.neighbors._regression", "KNeighborsRegressor", 0),
    NEIGH("sklearn.neighbors.classification", "KNeighborsClassifier", 1),
    NEIGH("sklearn.neighbors.nearest_centroid", "NearestCentroid", 1),
    NEIGH("sklearn.neighbors.regression", "KNeighborsRegressor", 0),
    MLP("sklearn.neural_network._multilayer_perceptron", "MLPClassifier", 1),
    MLP("sklearn.neural_network._multilayer_perceptron", "MLPRegressor", 0),
    MLP("sklearn.neural_network.multilayer_perceptron", "MLPClassifier", 1),
    MLP("sklearn.neural_network.multilayer_perceptron", "MLPRegressor", 0),
    {"sklearn.pipeline", "FeatureUnion", &be_compose_family, 0, NULL},
    {"sklearn.pipeline", "Pipeline", &be_pipeline_family, 0, NULL},
    SCALER("sklearn.preprocessing._data", "Binarizer"),
    SCALER("sklearn.preprocessing._data", "MaxAbsScaler"),
    SCALER("sklearn.preprocessing._data", "MinMaxScaler"),
    SCALER("sklearn.preprocessing._data", "Normalizer"),
    SCALER("sklearn.preprocessing._data", "RobustScaler"),
    SCALER("sklearn.preprocessing._data", "StandardScaler"),
    {"sklearn.preprocessing._encoders", "OneHotEncoder", &be_encoder_family, 0, NULL},
    {"sklearn.preprocessing._encoders", "OrdinalEncoder", &be_encoder_family, 0, NULL},
    {"sklearn.preprocessing._function_transformer", "FunctionTransformer", &be_shape_family, 0, NULL},
    {"sklearn.preprocessing._label", "LabelEncoder", &be_encoder_family, 0, NULL},
    {"sklearn.preprocessing._polynomial", "PolynomialFeatures", &be_shape_family, 0, NULL},
    SCALER("sklearn.preprocessing.data", "Binarizer"),
    SCALER("sklearn.preprocessing.data", "MaxAbsScaler"),
    SCALER("sklearn.preprocessing.data", "MinMaxScaler"),
    SCALER("sklearn.preprocessing.data", "Normalizer"),
    SCALER("sklearn.preprocessing.data", "RobustScaler"),
    SCALER("sklearn.preprocessing.data", "StandardScaler"),
    {"sklearn.preprocessing.label", "LabelEncoder", &be_encoder_family, 0, NULL},
    LINEAR("sklearn.svm._classes", "LinearSVC", 1),
    LINEAR("sklearn.svm._classes", "LinearSVR", 0),
    SVM("sklearn.svm._classes", "NuSVC", 1),
    SVM("sklearn.svm._classes", "NuSVR", 0),
    SVM("sklearn.svm._classes", "OneClassSVM", 0),
    SVM("sklearn.svm._classes", "SVC", 1),
    SVM("sklearn.svm._classes", "SVR", 0),
    LINEAR("sklearn.svm.classes", "LinearSVC", 1),
    LINEAR("sklearn.svm.classes", "LinearSVR", 0),
    SVM("sklearn.svm.classes", "NuSVC", 1),
    SVM("sklearn.svm.classes", "NuSVR", 0),
    SVM("sklearn.svm.classes", "OneClassSVM", 0),
    SVM("sklearn.svm.classes", "SVC", 1),
    SVM("sklearn.svm.classes", "SVR", 0),
    TREE("sklearn.tree._classes", "DecisionTreeClassifier", 1),
    TREE("sklearn.tree._classes", "DecisionTreeRegressor", 0),
    TREE("sklearn.tree._classes", "ExtraTreeClassifier", 1),
    TREE("sklearn.tree._classes", "ExtraTreeRegressor", 0),
    TREE("sklearn.tree.tree", "DecisionTreeClassifier", 1),
    TREE("sklearn.tree.tree", "DecisionTreeRegressor", 0),
    TREE("sklearn.tree.tree", "ExtraTreeClassifier", 1),
    TREE("sklearn.tree.tree", "ExtraTreeRegressor", 0),
};

static int compare(const char *module, const char *name, const be_class *c) {
    int d = strcmp(module, c->module);
    return d ? d : strcmp(name, c->name);
}

const be_class *be_class_find(const char *module, const char *name) {
    if (!module || !name) return NULL;
    size_t lo = 0, hi = sizeof classes / sizeof *classes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = compare(module, name, &classes[mid]);
        if (d == 0) return &classes[mid];
        if (d < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

size_t be_class_count(void) { return sizeof classes / sizeof *classes; }

const be_class *be_class_at(size_t i) { return i < be_class_count() ? &classes[i] : NULL; }
