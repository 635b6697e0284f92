# SPDX-License-Identifier: BSD-2-Clause
# Packaging and deployment: make deb, make test-deb, make check-deploy
# (included from the Makefile).
#
#   make deb        build/deb/libnginx-mod-http-xflow_<version>_<arch>.deb,
#                   built by dpkg-buildpackage from a copy of the working
#                   tree (debian/ at the top, Debian's nginx module way);
#                   <version> is version.sh's (git describe)
#   make test-deb   lintian, apt-get install of the package, its version,
#                   licence, tools, docs and examples, Debian's nginx with
#                   the packaged snippet and with the host's conf.d file,
#                   events through the dev broker into Kafka, then purge
#   make check-deploy  docs/deploy/ (the compose stack, the Debian host
#                   files) and the image without Docker: YAML/JSON,
#                   docker-compose config, promtool, nginx -t, the image's
#                   libraries, the licence lines, the version order

DEB_OUT     := $(B)/deb
# version.sh (git describe): each commit's package upgrades the one before
DEB_VERSION := $(word 1,$(XFLOW_VERSION))
DEB_ARCH    := $(shell dpkg --print-architecture 2>/dev/null)
DEB_NAME    := libnginx-mod-http-xflow
DEB_FILE    := $(DEB_OUT)/$(DEB_NAME)_$(DEB_VERSION)_$(DEB_ARCH).deb
DEB_SRC     := $(DEB_OUT)/xflow-$(DEB_VERSION)
DEB_INPUTS  := $(wildcard debian/* debian/source/* docs/*.md docs/monitoring/* \
                 docs/deploy/debian/*/* tests/support/xflow-spool-dump.*) \
               config version.sh LICENSE README.md Makefile $(MODULE_SRCS)
# what make deb needs besides the Build-Depends of debian/control (test-deb
# installs lintian)
DEB_TOOLS   := dpkg-dev debhelper

.PHONY: deb test-deb check-deploy

deb: $(DEB_FILE)

$(DEB_FILE): $(DEB_INPUTS)
	@missing=; for p in $(DEB_TOOLS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
	        | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "deb: installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	        apt-get install -y -qq --no-install-recommends $$missing \
	        > /dev/null; \
	fi
	rm -rf $(DEB_OUT) && mkdir -p $(DEB_SRC)
	@# the working tree as make module sees it: tracked and new files,
	@# not what .gitignore leaves out (build/, node_modules/); without
	@# git (a tarball), everything but build/
	if [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$$(pwd -P)" ]; \
	then \
	    git ls-files -z -co --exclude-standard | \
	    while IFS= read -r -d '' f; do [ -f "$$f" ] && printf '%s\0' "$$f"; done | \
	    tar --null -T - -cf - | tar -xf - -C $(DEB_SRC); \
	else \
	    tar --exclude=./build --exclude=node_modules -cf - . \
	        | tar -xf - -C $(DEB_SRC); \
	fi
	@# the copy has no git: it reads its version from .version, and its
	@# changelog gets this build's entry (the package's version)
	echo '$(XFLOW_VERSION)' > $(DEB_SRC)/.version
	./version.sh --changelog $(DEB_SRC)/debian/changelog
	@cd $(DEB_SRC) && if ! dpkg-checkbuilddeps 2>/dev/null; then \
	    echo "deb: installing the Build-Depends of debian/control"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	        apt-get build-dep -y -qq --no-install-recommends ./ > /dev/null; \
	fi
	cd $(DEB_SRC) && DEB_BUILD_OPTIONS="parallel=$$(nproc) $$DEB_BUILD_OPTIONS" \
	    dpkg-buildpackage -b -us -uc > ../build.log 2>&1 \
	    || { tail -40 ../build.log; exit 1; }
	@ls -l $(DEB_OUT)/*.deb

test-deb: $(DEB_FILE) $(B)/xflow-devbroker
	tests/support/test-deb.sh $(DEB_FILE)

check-deploy: $(MODULE)
	tests/support/check-deploy.sh
