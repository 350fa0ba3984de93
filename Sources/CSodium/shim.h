#ifndef SECURESTREAMS_CSODIUM_SHIM_H
#define SECURESTREAMS_CSODIUM_SHIM_H
#include <sodium.h>
#endif
