// faiss_peer.cc - the peer of bench/bench_scale.c: FAISS (Debian's
// libfaiss-dev) exhaustive search, IndexFlatIP (float32) and
// IndexScalarQuantizer QT_8bit (int8 codes, per-dimension min/max), inner
// product, one thread.  A C interface so that bench_scale stays C.
#include <faiss/IndexFlat.h>
#include <faiss/IndexScalarQuantizer.h>
#include <omp.h>

#include <vector>

extern "C" {
typedef struct faiss_peer faiss_peer;
faiss_peer *faiss_peer_new(int dim, int sq8);
int faiss_peer_train(faiss_peer *p, long n, const float *x);
int faiss_peer_add(faiss_peer *p, long n, const float *x);
int faiss_peer_search(faiss_peer *p, long nq, const float *q, int k);
long faiss_peer_bytes(const faiss_peer *p);
void faiss_peer_free(faiss_peer *p);
}

struct faiss_peer {
    faiss::Index *index;
    int sq8;
    std::vector<float> dist;
    std::vector<faiss::Index::idx_t> ids;
};

faiss_peer *faiss_peer_new(int dim, int sq8) {
    omp_set_num_threads(1);
    faiss_peer *p = new faiss_peer;
    p->sq8 = sq8;
    if (sq8)
        p->index = new faiss::IndexScalarQuantizer(dim, faiss::ScalarQuantizer::QT_8bit,
                                                   faiss::METRIC_INNER_PRODUCT);
    else
        p->index = new faiss::IndexFlatIP(dim);
    return p;
}

int faiss_peer_train(faiss_peer *p, long n, const float *x) {
    try {
        if (!p->index->is_trained) p->index->train(n, x);
    } catch (...) {
        return -1;
    }
    return 0;
}

int faiss_peer_add(faiss_peer *p, long n, const float *x) {
    try {
        p->index->add(n, x);
    } catch (...) {
        return -1;
    }
    return 0;
}

int faiss_peer_search(faiss_peer *p, long nq, const float *q, int k) {
    p->dist.resize((size_t)(nq * k));
    p->ids.resize((size_t)(nq * k));
    try {
        p->index->search(nq, q, k, p->dist.data(), p->ids.data());
    } catch (...) {
        return -1;
    }
    return 0;
}

long faiss_peer_bytes(const faiss_peer *p) {
    long n = (long)p->index->ntotal;
    return p->sq8 ? n * (long)static_cast<faiss::IndexScalarQuantizer *>(p->index)->code_size
                  : n * p->index->d * (long)sizeof(float);
}

void faiss_peer_free(faiss_peer *p) {
    if (!p) return;
    delete p->index;
    delete p;
}
