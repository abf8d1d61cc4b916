// SPDX-License-Identifier: GPL-2.0
/*
 * Keeping the live gate's self set current (`run`; see self.h). Apart from
 * self.c because it reads the gate's pins (loader.c), which the fuzz
 * targets do not link.
 */
#include <unistd.h>

#include "gate.h"
#include "loader.h"
#include "self.h"

int cg_self_refresh_gate(const struct cg_env *env,
			 char (*ifnames)[CG_IFNAME_MAX], size_t n)
{
	static const uint32_t slots[] = {CG_SLOT_A, CG_SLOT_B, CG_SLOT_SHADOW};
	struct cg_self_set s;
	size_t i;
	int err, first = 0;

	if ((err = cg_self_learn(ifnames, n, &s)))
		return err;
	for (i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
		int prog = cg_gate_slot_prog(env, slots[i], NULL);
		int fd4, fd6, fdf;

		if (prog < 0)
			continue;
		fd4 = cg_prog_map_fd(prog, "self4");
		fd6 = cg_prog_map_fd(prog, "self6");
		/* Absent from an instance loaded before the filter. */
		fdf = cg_prog_map_fd(prog, "self_filter");
		if (fd4 >= 0 && fd6 >= 0) {
			err = cg_self_fill(fd4, fd6, fdf, &s);
			if (err && !first)
				first = err;
		}
		if (fd4 >= 0)
			close(fd4);
		if (fd6 >= 0)
			close(fd6);
		if (fdf >= 0)
			close(fdf);
		close(prog);
	}
	err = first ? first : (int)s.n;
	cg_self_set_free(&s);
	return err;
}
