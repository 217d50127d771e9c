#include "daemon/vman/event_loop.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

namespace qvpn::vman {

EventLoop::EventLoop() : ep_(::epoll_create1(EPOLL_CLOEXEC)) {}

EventLoop::~EventLoop() {
    if (ep_ >= 0) {
        ::close(ep_);
    }
}

Status EventLoop::add(int fd, uint32_t events, FdHandler h) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        return fail(msg("QVP0003", "QTOVMAN", "epoll_ctl add").with_errno(errno));
    }
    fds_[fd] = std::make_shared<FdHandler>(std::move(h));
    return {};
}

void EventLoop::remove(int fd) {
    ::epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
    fds_.erase(fd);
}

EventLoop::TimerId EventLoop::after(std::chrono::milliseconds delay, std::function<void()> cb) {
    TimerId id = next_++;
    due_.emplace(std::chrono::steady_clock::now() + delay, id);
    timers_[id] = std::move(cb);
    return id;
}

void EventLoop::cancel(TimerId id) { timers_.erase(id); }

Status EventLoop::run() {
    if (ep_ < 0) {
        return fail(msg("QVP0003", "QTOVMAN", "epoll_create1").with_errno(errno));
    }
    running_ = true;
    epoll_event evs[32];
    while (running_) {
        int timeout = -1;
        // Drop cancelled timers at the front, then wait until the first due.
        while (!due_.empty() && timers_.count(due_.begin()->second) == 0) {
            due_.erase(due_.begin());
        }
        if (!due_.empty()) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                due_.begin()->first - std::chrono::steady_clock::now());
            timeout = left.count() < 0 ? 0 : static_cast<int>(left.count()) + 1;
        }
        int n = ::epoll_wait(ep_, evs, 32, timeout);
        if (n < 0 && errno != EINTR) {
            return fail(msg("QVP0003", "QTOVMAN", "epoll_wait").with_errno(errno));
        }
        for (int i = 0; i < n && running_; ++i) {
            auto it = fds_.find(evs[i].data.fd);
            if (it == fds_.end()) {
                continue;
            }
            auto h = it->second;  // keeps the handler alive if it removes itself
            (*h)(evs[i].events);
        }
        auto now = std::chrono::steady_clock::now();
        while (running_ && !due_.empty() && due_.begin()->first <= now) {
            TimerId id = due_.begin()->second;
            due_.erase(due_.begin());
            auto t = timers_.find(id);
            if (t == timers_.end()) {
                continue;
            }
            auto cb = std::move(t->second);
            timers_.erase(t);
            cb();
        }
    }
    return {};
}

}  // namespace qvpn::vman
