// The benchmark corpus: a fixed list of common, reasonably large Debian 12
// (bookworm, amd64) packages, about 1 GB once extracted. Changing this list
// changes the corpus, so results are only comparable for the same list.
export const PACKAGES = [
  'adduser', 'apt', 'bash', 'binutils-common', 'binutils-x86-64-linux-gnu', 'bzip2', 'ca-certificates',
  'clang-14', 'cmake', 'cmake-data', 'coreutils', 'cpp-12', 'curl', 'debconf',
  'debianutils', 'diffutils', 'dpkg', 'dpkg-dev', 'e2fsprogs', 'emacs-common', 'fdisk',
  'findutils', 'g++-12', 'gawk', 'gcc-12', 'git', 'git-man', 'gnupg',
  'gpg', 'gpg-agent', 'gpgv', 'grep', 'groff-base', 'gzip', 'iproute2',
  'less', 'libapt-pkg6.0', 'libarchive13', 'libbinutils', 'libblkid1', 'libc-bin', 'libc6',
  'libc6-dev', 'libclang-cpp14', 'libclang1-14', 'libctf-nobfd0', 'libcurl3-gnutls', 'libcurl4', 'libdb5.3',
  'libext2fs2', 'libgcc-12-dev', 'libgcc-s1', 'libgcrypt20', 'libglib2.0-0', 'libglib2.0-data', 'libgmp10',
  'libgnutls30', 'libgprofng0', 'libgssapi-krb5-2', 'libhogweed6', 'libicu72', 'libidn2-0', 'libjsoncpp25',
  'libk5crypto3', 'libkrb5-3', 'libksba8', 'libllvm14', 'liblzma5', 'libmagic-mgc', 'libmagic1',
  'libmount1', 'libncursesw6', 'libnettle8', 'libp11-kit0', 'libpam-modules', 'libpam-runtime', 'libpam0g',
  'libpcre2-8-0', 'libperl5.36', 'libpython3.11', 'libpython3.11-minimal', 'libpython3.11-stdlib', 'libreadline8', 'libselinux1',
  'libsemanage2', 'libsmartcols1', 'libsqlite3-0', 'libssl-dev', 'libssl3', 'libstdc++-12-dev', 'libstdc++6',
  'libsystemd-shared', 'libsystemd0', 'libtcl8.6', 'libtinfo6', 'libudev1', 'libunistring2', 'libuv1',
  'libxml2', 'libzstd1', 'linux-libc-dev', 'locales', 'login', 'lua5.4', 'make',
  'man-db', 'manpages', 'mount', 'ncurses-base', 'ncurses-term', 'openssh-client', 'openssh-server',
  'openssl', 'passwd', 'perl', 'perl-base', 'perl-modules-5.36', 'procps', 'psmisc',
  'python3.11', 'python3.11-minimal', 'rsync', 'sed', 'sqlite3', 'systemd', 'tar',
  'tzdata', 'udev', 'util-linux', 'vim', 'vim-common', 'vim-runtime', 'wget',
  'xz-utils', 'zstd',
];

/** The harness refuses to run on a smaller corpus. */
export const MIN_PACKAGES = 100;
