//! The fds that cross into a session from the caller (0, 1, 2 and
//! `--fd N`): which may not cross (a directory of the host's, a socket of
//! the host's network), and how the Unix sockets that cross are kept from
//! bringing more of the host's objects in later (SCM_RIGHTS).


/// Whether any of the fds that cross into the session (0, 1, 2, `--fd`)
/// is a socket of another family than AF_UNIX (without --net, a connected
/// or listening TCP socket: `network_authority`): an IP socket made in the
/// host's network namespace reaches the host's network from any namespace
/// (one disconnected with AF_UNSPEC would connect out again), so
/// Landlock's TCP rules stay on.
pub(super) fn inherits_ip_socket(fds: &[i32]) -> bool {
    [0, 1, 2].iter().chain(fds).any(|&fd| get_int(fd, libc::SOL_SOCKET, libc::SO_DOMAIN).is_ok_and(|d| d != libc::AF_UNIX))
}

/// Why `fd` (0-2 or an --fd) may not cross into the session, if it may
/// not: a directory of the host's, or without --net a socket of the
/// host's network that reaches more than one peer.
pub(super) fn refused_crossing(fd: i32, net: bool) -> Option<String> {
    let name = || if fd < 3 { format!("fd {fd}") } else { format!("--fd {fd}") };
    if is_host_directory(fd) {
        return Some(format!(
            "{} is a directory of the host: through it (`..`) the session would reach the files around it; grant the directory with --ro or --rw instead",
            name()
        ));
    }
    if net {
        return None;
    }
    network_authority(fd).map(|what| {
        format!(
            "{} is {what} of the host's network: through it the session would reach the network; grant the network with --net, or pass a connected or listening socket or none",
            name()
        )
    })
}

/// Whether `fd` is a directory (O_PATH ones too) of the host's mount
/// tree. It cannot cross into a session: the kernel's `..` from it climbs
/// the host's tree (only a mount's root or the process's root stops it),
/// and Landlock has no right for stat, chmod, chown, utimensat or setxattr,
/// so calls made around the handler (`fchmodat(fd, "../../etc/shadow")`)
/// would change any of the user's files on the host (found by the
/// session-14 adversary: a root session given a directory as stdin made a
/// file beside it world-readable; test
/// `a_host_directory_fd_does_not_cross_into_a_session`).
fn is_host_directory(fd: i32) -> bool {
    // SAFETY: struct stat is plain integers; all zeroes is a valid one.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat writes one struct stat into `st`; any fd may be asked
    // (EBADF for a closed one leaves `st` unread).
    let r = unsafe { libc::fstat(fd, &mut st) };
    r == 0 && st.st_mode & libc::S_IFMT == libc::S_IFDIR
}

/// What makes `fd` network authority, if it is a socket of the host's
/// network that may reach more than one peer: any socket but a TCP or
/// Unix one that is connected (its peer only) or listening (who connects
/// to it only). A session without --net has no way to confine such a
/// socket: an unbound TCP socket's listen() binds a port of the host's by
/// itself (Landlock sees no bind), a UDP socket sends anywhere, a netlink
/// socket speaks to the host's network stack, and an unconnected Unix
/// socket binds an abstract name in the host's namespace, which host
/// programs connect to (an X display's, a D-Bus address: the session
/// posing as the service; Landlock's scope stops connections out only).
fn network_authority(fd: i32) -> Option<String> {
    let int_opt = |opt| get_int(fd, libc::SOL_SOCKET, opt).ok();
    let domain = int_opt(libc::SO_DOMAIN)?;
    let (kind, protocol) = (int_opt(libc::SO_TYPE).unwrap_or(-1), int_opt(libc::SO_PROTOCOL).unwrap_or(-1));
    let family = match domain {
        libc::AF_UNIX => "AF_UNIX",
        libc::AF_INET => "AF_INET",
        libc::AF_INET6 => "AF_INET6",
        libc::AF_NETLINK => "AF_NETLINK",
        libc::AF_PACKET => "AF_PACKET",
        _ => "",
    };
    let family = if family.is_empty() { format!("family {domain}") } else { family.to_string() };
    let tcp = matches!(domain, libc::AF_INET | libc::AF_INET6) && kind == libc::SOCK_STREAM && protocol == libc::IPPROTO_TCP;
    if tcp || domain == libc::AF_UNIX {
        // SAFETY: sockaddr_storage is plain bytes; all zeroes is a valid one.
        let mut sa: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: getpeername writes at most `len` bytes into `sa`.
        let connected = unsafe { libc::getpeername(fd, (&mut sa as *mut libc::sockaddr_storage).cast(), &mut len) } == 0;
        if connected || int_opt(libc::SO_ACCEPTCONN) == Some(1) {
            return None;
        }
        if tcp {
            return Some(format!("an unconnected TCP socket ({family})"));
        }
        return Some(format!("an unconnected Unix socket ({family}), whose abstract names are those"));
    }
    let kind = match kind {
        libc::SOCK_DGRAM => "a datagram socket",
        libc::SOCK_RAW => "a raw socket",
        libc::SOCK_STREAM => "a stream socket",
        libc::SOCK_SEQPACKET => "a seqpacket socket",
        _ => "a socket",
    };
    Some(format!("{kind} ({family})"))
}

/// SO_PASSRIGHTS (Linux 6.16): whether a Unix socket accepts fds
/// (SCM_RIGHTS) sent to it. With it off, a sender's sendmsg fails with
/// EPERM.
const SO_PASSRIGHTS: libc::c_int = linux_raw_sys::net::SO_PASSRIGHTS as libc::c_int;

/// The Unix sockets whose SO_PASSRIGHTS the launcher turned off: on again
/// when the launcher ends (the socket is the caller's too, and its other
/// holders on the host may take fds through it after the session), unless
/// processes of the session are left (the session's init has not ended:
/// a daemon left behind holding such a socket took a host directory
/// through it; session-15 final adversary, test
/// `a_daemon_left_behind_takes_no_fds_through_a_crossing_socket`).
pub(super) struct RightsBack {
    fds: Vec<i32>,
    /// The session's init, once there is one.
    pub init: Option<libc::pid_t>,
}

impl Drop for RightsBack {
    fn drop(&mut self) {
        if self.fds.is_empty() || self.init.is_some_and(alive) {
            return;
        }
        for &fd in &self.fds {
            set_int(fd, libc::SOL_SOCKET, SO_PASSRIGHTS, 1);
        }
    }
}

/// Whether process `pid` (the session's init) has not ended within 100
/// ms: its pidfd is not readable yet. (It ends just after the program
/// where nothing is left behind.)
fn alive(pid: libc::pid_t) -> bool {
    // SAFETY: pidfd_open takes a pid and flags, and returns a new fd.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32;
    if fd < 0 {
        return false; // gone (reaped)
    }
    let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // SAFETY: one pollfd; then the fd is ours to close.
    let ended = unsafe {
        let r = libc::poll(&mut p, 1, 100);
        libc::close(fd);
        r == 1
    };
    !ended
}

fn get_int(fd: i32, level: libc::c_int, opt: libc::c_int) -> Result<libc::c_int, i32> {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most one int into `v`; any fd may be
    // asked (ENOTSOCK, EBADF for what is no socket).
    let r = unsafe { libc::getsockopt(fd, level, opt, (&mut v as *mut libc::c_int).cast(), &mut len) };
    if r == 0 {
        Ok(v)
    } else {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }
}

fn set_int(fd: i32, level: libc::c_int, opt: libc::c_int, v: libc::c_int) -> bool {
    // SAFETY: setsockopt reads one int from `v`.
    unsafe { libc::setsockopt(fd, level, opt, (&v as *const libc::c_int).cast(), std::mem::size_of::<libc::c_int>() as libc::socklen_t) == 0 }
}

/// Without `net`, names each unnamed Unix socket among `fds` (the
/// crossing ones: `autobind`). Turns SCM_RIGHTS off on each, so that a
/// process of the host's at the other end cannot send the session a host
/// object later: a directory, whose `..` climbs the host's
/// tree for chmod, chown and utimensat made around the handler (Landlock
/// has no right for them), or a socket of the host's network. The
/// session's seccomp filter refuses SO_PASSRIGHTS, so the program cannot
/// turn it on again. Fds already queued in such a socket before are looked
/// for (a peek of its whole queue); a socket holding any is refused.
/// Kernels before 6.16 have no SO_PASSRIGHTS: the sockets cross as they
/// are (docs/DESIGN.md).
pub(super) fn close_fd_passing(fds: &[i32], net: bool) -> Result<RightsBack, String> {
    let mut back = RightsBack { fds: Vec::new(), init: None };
    for &fd in fds {
        if get_int(fd, libc::SOL_SOCKET, libc::SO_DOMAIN) != Ok(libc::AF_UNIX) {
            continue;
        }
        if !net {
            autobind(fd)?;
        }
        match get_int(fd, libc::SOL_SOCKET, SO_PASSRIGHTS) {
            Ok(0) => {}
            Ok(_) => {
                if !set_int(fd, libc::SOL_SOCKET, SO_PASSRIGHTS, 0) {
                    return Err(format!("fd {fd}: cannot stop the Unix socket from taking fds (SO_PASSRIGHTS): {}", std::io::Error::last_os_error()));
                }
                back.fds.push(fd);
            }
            Err(_) => continue,
        }
        // A listening socket has no queue of messages (connections
        // queued before have their own sockets: docs/DESIGN.md).
        if get_int(fd, libc::SOL_SOCKET, libc::SO_ACCEPTCONN) == Ok(1) {
            continue;
        }
        if holds_fds(fd)? {
            let name = if fd < 3 { format!("fd {fd}") } else { format!("--fd {fd}") };
            return Err(format!(
                "{name} is a Unix socket with file descriptors queued in it (SCM_RIGHTS): they would cross into the session unjudged; read them first, or pass another socket"
            ));
        }
    }
    Ok(back)
}

/// Binds the Unix socket `fd` (of the host's network namespace) to a name
/// the kernel picks (autobind: an abstract name of 5 hex digits) unless it
/// has one, so that the session cannot bind it to an abstract name of
/// its choosing: a connected socket that crossed did so, in the host's
/// namespace (a datagram one after disconnecting with AF_UNSPEC), and
/// posed as a service of the host's or kept it from its name (session-15
/// adversary; test
/// `a_connected_host_unix_socket_takes_no_abstract_name_of_the_host`).
fn autobind(fd: i32) -> Result<(), String> {
    // SAFETY: sockaddr_un is plain bytes; all zeroes is a valid one.
    let mut sa: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
    // SAFETY: getsockname writes at most `len` bytes into `sa`.
    if unsafe { libc::getsockname(fd, (&mut sa as *mut libc::sockaddr_un).cast(), &mut len) } < 0 {
        return Err(format!("fd {fd}: cannot read the Unix socket's name: {}", std::io::Error::last_os_error()));
    }
    if len as usize > std::mem::size_of::<libc::sa_family_t>() {
        return Ok(()); // named already: bind fails with EINVAL
    }
    sa.sun_family = libc::AF_UNIX as libc::sa_family_t;
    // SAFETY: bind reads the family alone (autobind).
    let r = unsafe { libc::bind(fd, (&sa as *const libc::sockaddr_un).cast(), std::mem::size_of::<libc::sa_family_t>() as libc::socklen_t) };
    if r < 0 {
        return Err(format!("fd {fd}: cannot name the Unix socket (autobind): {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Whether any message queued in the Unix socket `fd` carries fds: its
/// whole queue is peeked (SO_PEEK_OFF moves each peek past the last),
/// nothing is read. The fds a peek hands over are closed at once.
fn holds_fds(fd: i32) -> Result<bool, String> {
    let stream = get_int(fd, libc::SOL_SOCKET, libc::SO_TYPE) == Ok(libc::SOCK_STREAM);
    if !stream {
        // A datagram sender checks SO_PASSRIGHTS and queues its message
        // under the receiver's state lock, which poll for writing takes:
        // a message that passed the check before it went off is in the
        // queue after this. (A stream peek takes that lock itself.)
        let mut p = libc::pollfd { fd, events: libc::POLLOUT, revents: 0 };
        // SAFETY: one pollfd, no wait.
        unsafe { libc::poll(&mut p, 1, 0) };
    }
    // A stream peek skips the out-of-band byte (MSG_OOB) unless
    // SO_OOBINLINE is on, and the program turns that on to read the byte
    // with its fds inline: inline while we look (session-15 adversary).
    let inline = if stream { get_int(fd, libc::SOL_SOCKET, libc::SO_OOBINLINE).ok() } else { None };
    if inline == Some(0) && !set_int(fd, libc::SOL_SOCKET, libc::SO_OOBINLINE, 1) {
        return Err(format!("fd {fd}: cannot look at the Unix socket's out-of-band byte (SO_OOBINLINE): {}", std::io::Error::last_os_error()));
    }
    let old = get_int(fd, libc::SOL_SOCKET, libc::SO_PEEK_OFF).unwrap_or(-1);
    if !set_int(fd, libc::SOL_SOCKET, libc::SO_PEEK_OFF, 0) {
        if inline == Some(0) {
            set_int(fd, libc::SOL_SOCKET, libc::SO_OOBINLINE, 0);
        }
        return Err(format!("fd {fd}: cannot look into the Unix socket's queue (SO_PEEK_OFF): {}", std::io::Error::last_os_error()));
    }
    let mut data = vec![0u8; 64 << 10];
    let mut control = [0u64; 512];
    let mut found = Err(format!("fd {fd}: the Unix socket's queue is too long to look through for file descriptors"));
    // Bounded: a peer keeps writing while we look (no fds: those fail now).
    for _ in 0..4096 {
        let mut iov = libc::iovec { iov_base: data.as_mut_ptr().cast(), iov_len: data.len() };
        // SAFETY: msghdr is plain data; all zeroes is an empty one.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control);
        // SAFETY: the buffers msg names are ours and alive for the call.
        let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_PEEK | libc::MSG_DONTWAIT | libc::MSG_CMSG_CLOEXEC) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            found = match e.raw_os_error() {
                Some(libc::EAGAIN) => Ok(false),
                Some(libc::EINTR) => continue,
                _ => Err(format!("fd {fd}: cannot look into the Unix socket's queue: {e}")),
            };
            break;
        }
        let mut rights = msg.msg_flags & libc::MSG_CTRUNC != 0;
        // SAFETY: the CMSG_* walk stays within msg_controllen bytes of
        // `control`, as the kernel filled it.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                    rights = true;
                    let count = ((*c).cmsg_len as usize - libc::CMSG_LEN(0) as usize) / 4;
                    let at = libc::CMSG_DATA(c) as *const i32;
                    for i in 0..count {
                        libc::close(at.add(i).read_unaligned());
                    }
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        if rights {
            found = Ok(true);
            break;
        }
        if n == 0 && stream {
            found = Ok(false);
            break;
        }
    }
    set_int(fd, libc::SOL_SOCKET, libc::SO_PEEK_OFF, old);
    if inline == Some(0) {
        set_int(fd, libc::SOL_SOCKET, libc::SO_OOBINLINE, 0);
    }
    found
}
